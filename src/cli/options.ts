/**
 * Strict parsers of option values (commander calls them; a bad value is a usage error,
 * exit code 2) and the global options every command shares.
 */
import { InvalidArgumentError, Option } from "commander";
import { DYNAMODB_NAME } from "../commands.js";
import type { ProvisionedThroughput } from "../table.js";
import { UsageError } from "./errors.js";
import { redactUrl } from "./redact.js";

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^([1-9][0-9]{0,9})([smhd])$/;

/**
 * Milliseconds of a duration written as a positive whole number and one unit: `45s`, `90m`,
 * `12h`, `30d`. Nothing else is accepted: no sign, fraction, space, compound (`1d12h`),
 * upper case or missing unit.
 */
export const parseDuration = (text: string): number => {
  const match = DURATION.exec(text);
  if (match === null) {
    throw new InvalidArgumentError(
      "Expected a positive whole number and a unit s, m, h or d, like 30d, 12h, 90m or 45s.",
    );
  }
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (!Number.isSafeInteger(ms) || ms > Date.now()) {
    throw new InvalidArgumentError("The duration reaches back before 1970.");
  }
  return ms;
};

/** A parser of whole numbers from 1 to `max`. */
export const positiveInteger =
  (max: number) =>
  (text: string): number => {
    if (!/^[1-9][0-9]*$/.test(text) || Number(text) > max) {
      throw new InvalidArgumentError(`Expected a whole number from 1 to ${max}.`);
    }
    return Number(text);
  };

/** `<rcu>,<wcu>`, two positive whole numbers: the capacity of a provisioned table. */
export const parseProvisioned = (text: string): ProvisionedThroughput => {
  const match = /^([1-9][0-9]{0,11}),([1-9][0-9]{0,11})$/.exec(text);
  if (match === null) {
    throw new InvalidArgumentError(
      "Expected <rcu>,<wcu>: read and write capacity units, two positive whole numbers like 5,5.",
    );
  }
  return { ReadCapacityUnits: Number(match[1]), WriteCapacityUnits: Number(match[2]) };
};

/** `--json`, which every command that prints a result takes; `description` for its help. */
export const jsonOption = (
  description = "print the result as one JSON document on stdout",
): Option => new Option("--json", description);

/** `--concurrency` and `--segments` of the bulk commands (cleanup, migrate), as parsed. */
export interface BulkFlags {
  readonly concurrency?: number;
  readonly segments?: number;
}

/** `--concurrency <n>` of a bulk command; `description` says what it bounds. */
export const concurrencyOption = (description: string): Option =>
  new Option("--concurrency <n>", `${description} (default 16)`).argParser(positiveInteger(1000));

/** `--segments <n>` of a bulk command. */
export const segmentsOption = (): Option =>
  new Option("--segments <n>", "parallel scan segments (default 4)").argParser(
    positiveInteger(1000),
  );

/** The bulk flags given on the command line; the run's defaults apply to the others. */
export const bulkOptions = ({ concurrency, segments }: BulkFlags): BulkFlags => ({
  ...(concurrency === undefined ? {} : { concurrency }),
  ...(segments === undefined ? {} : { segments }),
});

/** The options every command takes, as commander parsed them. */
export interface GlobalOptions {
  /** Table name. */
  readonly table: string;
  /**
   * AWS region (`--region`). Absent: the SDK resolves it (`AWS_REGION`, then the profile's
   * `region` in ~/.aws/config).
   */
  readonly region?: string;
  /** Profile of ~/.aws/config and ~/.aws/credentials (`--profile`); else `AWS_PROFILE`, `default`. */
  readonly profile?: string;
  /** Endpoint URL (DynamoDB Local, a VPC endpoint); the region's default when absent. */
  readonly endpoint?: string;
  /** Correlation GSI name; the store's default when absent. */
  readonly correlationIndex?: string;
  /** Cleanup GSI name; the store's default when absent. */
  readonly cleanupIndex?: string;
  /** Print stack traces of failures. */
  readonly debug?: boolean;
}

/**
 * Checks the global options before any command runs, so that a bad name (also one taken
 * from `SAGA_TABLE`) is a usage error rather than a failed request.
 */
export const checkGlobalOptions = (options: GlobalOptions): void => {
  const names = [
    ["--table", options.table],
    ["--correlation-index", options.correlationIndex],
    ["--cleanup-index", options.cleanupIndex],
  ] as const;
  for (const [flag, value] of names) {
    if (value !== undefined && !DYNAMODB_NAME.test(value)) {
      throw new UsageError(
        `${flag} must be a DynamoDB name (3 to 255 of A-Z a-z 0-9 _ . -), got ${JSON.stringify(value)}`,
      );
    }
  }
  if (options.profile !== undefined && options.profile.trim() === "") {
    throw new UsageError("--profile needs the name of a profile of ~/.aws/config");
  }
  if (options.region !== undefined && !/^[a-z0-9-]+$/.test(options.region)) {
    throw new UsageError(
      `--region must be an AWS region like us-east-1, got ${JSON.stringify(options.region)}`,
    );
  }
  if (options.endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(options.endpoint);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
      throw new UsageError(
        `--endpoint must be an http(s) URL like http://localhost:8000, got ${JSON.stringify(redactUrl(options.endpoint))}`,
      );
    }
  }
};
