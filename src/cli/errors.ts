/**
 * How the command-line tool fails: exit codes, its own errors, and the one line it prints
 * for any failure (store errors, AWS errors, anything else).
 */
import { SagaStoreError } from "../errors.js";
import { NETWORK_CODES, isTableNotFound } from "../failures.js";
import { redactUrl } from "./redact.js";

/** Process exit codes of the tool. */
export const ExitCode = {
  /** The command did what it was asked. */
  ok: 0,
  /** The command failed: AWS refused, the store raised an error, the saga was not found. */
  failure: 1,
  /**
   * The command line was wrong: unknown command or option, bad value, missing option, no
   * region to be found.
   */
  usage: 2,
  /**
   * Not ready for the store: `table describe` found the table unusable as it is, or `migrate`
   * left (or, dry, would leave) 0.2.x sagas behind, which block their saga names.
   */
  notReady: 3,
} as const;

/** One of the `ExitCode` values. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the tool reports with a message of its own and an exit code. */
export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode = ExitCode.failure) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** A command line that cannot be run as given (exit code 2). */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.usage);
    this.name = "UsageError";
  }
}

/**
 * A failure of a command that had a client for `region` (the one the SDK resolved), so that
 * the error line can name the region of an endpoint that could not be reached.
 */
export class RegionalFailure extends Error {
  readonly region: string;

  constructor(region: string, cause: unknown) {
    super(`failed in region ${region}`, { cause });
    this.name = "RegionalFailure";
    this.region = region;
  }
}

/** The failure itself, without a `RegionalFailure` around it. */
const unwrap = (error: unknown): unknown =>
  error instanceof RegionalFailure ? error.cause : error;

interface ErrorShape {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly $metadata?: unknown;
}

const shape = (error: unknown): ErrorShape =>
  typeof error === "object" && error !== null ? (error as ErrorShape) : {};

/** `Name: message` of an AWS error, or the message of any other error. */
const plain = (error: unknown): string => {
  const { name, message, $metadata } = shape(error);
  if (typeof message !== "string") return String(error);
  const unwrapped = message.replace(/^AWS SDK error wrapper for (Error: )?/, "");
  if (unwrapped !== message) return unwrapped;
  return $metadata !== undefined && typeof name === "string" && name !== "Error"
    ? `${name}: ${message}`
    : message;
};

const isNetworkFailure = (error: unknown): boolean => {
  const { code, message } = shape(error) as { code?: unknown; message?: unknown };
  if (typeof code === "string") return NETWORK_CODES.has(code);
  // The SDK wraps an error from another realm (a test VM) in a plain Error without the code.
  const named = typeof message === "string" ? /\b(E[A-Z_]+)\b/.exec(message)?.[1] : undefined;
  return named !== undefined && NETWORK_CODES.has(named);
};

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ").trim();

/** What the tool knows when it reports a failure. */
export interface ErrorContext {
  /** The table the command worked on. */
  readonly tableName?: string;
  /** The endpoint it talked to (`--endpoint`); printed without its user name and password. */
  readonly endpoint?: string;
  /** The region it talked to: `--region`, or the one the SDK resolved. */
  readonly region?: string;
}

/**
 * The exit code of a failure: a `CliError`'s own, `ExitCode.failure` for everything else.
 */
export const exitCodeOf = (error: unknown): ExitCode => {
  const failure = unwrap(error);
  return failure instanceof CliError ? failure.exitCode : ExitCode.failure;
};

/**
 * One line that says what went wrong, without a stack trace: a missing table, an
 * unreachable endpoint and missing credentials are named as such, a store error keeps its
 * message and adds its `code`, an AWS error its name.
 */
export const errorLine = (error: unknown, context: ErrorContext = {}): string => {
  if (error instanceof RegionalFailure) {
    return errorLine(error.cause, { ...context, region: error.region });
  }
  // The store wraps AWS errors (DynamoDBRequestError, TransientError): look at the cause too.
  const inner = shape(error).cause;
  const cause = [error, inner].find((e) => isTableNotFound(e) || isNetworkFailure(e)) ?? error;
  if (isTableNotFound(cause)) {
    const table = context.tableName === undefined ? "the table" : `table "${context.tableName}"`;
    return oneLine(`${table} does not exist (${plain(cause)})`);
  }
  if (isNetworkFailure(cause)) {
    const where =
      context.endpoint === undefined
        ? `the endpoint of region ${context.region ?? "?"}`
        : redactUrl(context.endpoint);
    return oneLine(`cannot reach DynamoDB at ${where} (${plain(cause)})`);
  }
  if (shape(cause).name === "CredentialsProviderError") {
    return oneLine(
      `${plain(cause)}: pass --profile or set AWS_PROFILE, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (DynamoDB Local accepts any)`,
    );
  }
  if (error instanceof SagaStoreError) return oneLine(`${error.message} [${error.code}]`);
  return oneLine(plain(error));
};

/** Stack traces of an error and of each of its causes, for `--debug`. */
export const debugDetails = (error: unknown): string => {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (let current = unwrap(error); current !== undefined && !seen.has(current);) {
    seen.add(current);
    const stack = current instanceof Error ? current.stack : undefined;
    parts.push((parts.length === 0 ? "" : "caused by: ") + (stack ?? String(current)));
    current = shape(current).cause;
  }
  return parts.join("\n");
};
