/**
 * The two errors saga-bus retries. The runtime decides with `instanceof` against core's own
 * classes, so when the application has `@saga-bus/core` the store must throw *those*
 * classes: the very module the application loaded (its ESM file from an ESM build of this
 * package, its CommonJS file from the CommonJS build). Without core, look-alike classes of
 * this package stand in, with the same names, fields and constructors.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Constructor shape of core's `ConcurrencyError`. */
export type ConcurrencyErrorClass = new (
  sagaId: string,
  expectedVersion: number,
  actualVersion?: number,
) => Error;

/** Constructor shape of core's `TransientError`. */
export type TransientErrorClass = new (message: string, cause?: Error) => Error;

/** The error classes the store throws for retryable failures. */
export interface RetryableErrorClasses {
  readonly ConcurrencyError: ConcurrencyErrorClass;
  readonly TransientError: TransientErrorClass;
  /**
   * `"given"`: the application's (`retryableErrors`); `"@saga-bus/core"`: core's, found by
   * the store; `"fallback"`: this package's own.
   */
  readonly source: "given" | "@saga-bus/core" | "fallback";
}

const isErrorNamed = (value: unknown, name: string): boolean =>
  value instanceof Error && value.name === name;

/**
 * Thrown when the stored version differs from the expected one, or when another saga won a
 * race for the same correlation id. Stands in for core's class when core is absent;
 * `instanceof` also recognises core's instances (by name), so checks against this export
 * work either way.
 */
export class ConcurrencyError extends Error {
  readonly sagaId: string;
  readonly expectedVersion: number;
  readonly actualVersion: number | undefined;

  constructor(sagaId: string, expectedVersion: number, actualVersion?: number) {
    super(
      `Concurrency conflict for saga ${sagaId}: expected version ${expectedVersion}` +
        (actualVersion === undefined ? "" : `, found ${actualVersion}`),
    );
    this.name = "ConcurrencyError";
    this.sagaId = sagaId;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isErrorNamed(value, "ConcurrencyError");
  }
}

/**
 * A failure that may pass on retry (throttling, 5xx, network). Stands in for core's class
 * when core is absent; `instanceof` also recognises core's instances (by name).
 */
export class TransientError extends Error {
  override readonly cause: Error | undefined;

  constructor(message: string, cause?: Error) {
    super(message);
    this.name = "TransientError";
    this.cause = cause;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isErrorNamed(value, "TransientError");
  }
}

const fallback: RetryableErrorClasses = { ConcurrencyError, TransientError, source: "fallback" };

const isClass = (value: unknown): value is new (...args: never[]) => Error =>
  typeof value === "function";

// A variable specifier keeps TypeScript from type-checking a package that may be absent.
const CORE_MODULE = "@saga-bus/core";

/**
 * Loads core the way the code around it is loaded: `require` where there is one (the
 * CommonJS build, or this source run as CommonJS by tsx or ts-jest: core's CommonJS file,
 * as a CommonJS application gets), `import()` otherwise (the ESM build: core's ESM file).
 */
const loadCore = (): Promise<Record<string, unknown>> =>
  typeof require === "function"
    ? // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
      new Promise((resolve) => resolve(require(CORE_MODULE) as Record<string, unknown>))
    : (import(CORE_MODULE) as Promise<Record<string, unknown>>);

/** Whether the application probably has core although it could not be loaded from here. */
const coreLikelyPresent = (): boolean => {
  // Lambda functions are usually bundled, and a bundle hides core from a computed require.
  if (process.env.LAMBDA_TASK_ROOT !== undefined) return true;
  try {
    const manifest = JSON.parse(readFileSync(join(process.cwd(), "package.json"), "utf8")) as
      Record<string, Record<string, unknown> | undefined> | undefined;
    // An application depends on core; a library that only declares it as a peer (this
    // package, in its own repository) is not one.
    return ["dependencies", "devDependencies"].some(
      (field) => manifest?.[field]?.[CORE_MODULE] !== undefined,
    );
  } catch {
    return false;
  }
};

/** Warning code of the one warning this module emits. */
export const FALLBACK_WARNING_CODE = "SAGA_STORE_DYNAMODB_FALLBACK_ERRORS";

const warnFallback = (): void => {
  if (!coreLikelyPresent()) return;
  process.emitWarning(
    "@saga-bus/store-dynamodb could not load @saga-bus/core and throws its own ConcurrencyError " +
      "and TransientError, which saga-bus does not retry (it checks instanceof against its own " +
      "classes). In a bundle, pass core's classes: createDynamoDBSagaStore({ …, retryableErrors: " +
      "{ ConcurrencyError, TransientError } }).",
    { code: FALLBACK_WARNING_CODE },
  );
};

let loading: Promise<RetryableErrorClasses> | undefined;

/**
 * Resolves the retryable error classes once per process: core's when the application can
 * load `@saga-bus/core`, this package's otherwise.
 */
export const loadRetryableErrors = (): Promise<RetryableErrorClasses> =>
  (loading ??= loadCore().then(
    (core: Record<string, unknown>): RetryableErrorClasses =>
      isClass(core.ConcurrencyError) && isClass(core.TransientError)
        ? {
            ConcurrencyError: core.ConcurrencyError as ConcurrencyErrorClass,
            TransientError: core.TransientError as TransientErrorClass,
            source: "@saga-bus/core",
          }
        : fallback,
    () => {
      warnFallback();
      return fallback;
    },
  ));

/** The two classes an application hands the store (`retryableErrors`). */
export interface RetryableErrorsOption {
  readonly ConcurrencyError: ConcurrencyErrorClass;
  readonly TransientError: TransientErrorClass;
}

/**
 * The classes a store throws: exactly the given ones (no lookup, no warning), or else core's
 * found by `loadRetryableErrors`. Returns `undefined` for a given value that is not a pair of
 * classes, for the caller to refuse.
 */
export const retryableErrorsFor = (
  given: RetryableErrorsOption | undefined,
): Promise<RetryableErrorClasses> | undefined => {
  if (given === undefined) return loadRetryableErrors();
  if (!isClass(given?.ConcurrencyError) || !isClass(given?.TransientError)) return undefined;
  return Promise.resolve({
    ConcurrencyError: given.ConcurrencyError,
    TransientError: given.TransientError,
    source: "given",
  });
};
