/**
 * The store's dependencies and options, and their checks: everything is validated once, when
 * the store is built, so a misconfiguration fails at start-up with a `ConfigurationError`
 * instead of at the first message.
 */
import type { SagaState } from "./contract.js";
import {
  retryableErrorsFor,
  type RetryableErrorClasses,
  type RetryableErrorsOption,
} from "./core-link.js";
import { DEFAULT_INDEX_NAMES, DYNAMODB_NAME, type TableNames } from "./commands.js";
import { ConfigurationError } from "./errors.js";
import { DEFAULT_LAYOUT, MAX_SHARDS, shardedLayout, type TableLayout } from "./layout.js";
import type { RequestObserver, Send } from "./request.js";
import type { EnsureStep } from "./ensure-gate.js";
import { REAL_TIMING, type Timing } from "./timing.js";
import { isStateValidator, type StateValidator } from "./validation.js";

/** How reads see writes. */
export type Consistency = "strong" | "eventual";

/** Everything the store depends on. */
export interface DynamoDBSagaStoreDeps<TState extends SagaState = SagaState> {
  readonly send: Send;
  readonly tableName: string;
  /** Correlation GSI name. Default `"GSI1"`. */
  readonly correlationIndexName?: string;
  /** Cleanup GSI name. Default `"GSI2"`. */
  readonly cleanupIndexName?: string;
  /**
   * `"strong"` (default): reads see every write that has returned; a correlation lookup
   * costs two strongly consistent reads. `"eventual"`: the same two reads eventually
   * consistent, half the read cost; a miss is confirmed by the strong path, so a lookup by
   * correlation id never misses a saga whose insert returned. `getById` is one read either way.
   */
  readonly consistency?: Consistency;
  /**
   * Validates the application's state on every write and read: an io-ts type, or any
   * Standard Schema validator (zod, valibot, arktype, …).
   */
  readonly stateCodec?: StateValidator<TState>;
  /**
   * Seconds after completion when DynamoDB's TTL may delete a completed saga (written to
   * `expiresAt`; enable TTL on the table with `createTable`/`ensureTable`'s `ttl: true`).
   */
  readonly completedSagaTtlSeconds?: number;
  /**
   * Opt-in: a step run once before the store's first request, `ensureTableFirst(client,
   * { ttl: true })` (create the table if missing, add missing indexes, enable TTL). Off by
   * default: tables usually come from CloudFormation or CDK, and this needs control-plane
   * permissions. A failure surfaces from the operation and is retried by the next. Without it,
   * the control-plane code is not loaded at all (smaller bundles).
   */
  readonly ensureTable?: EnsureStep;
  /**
   * The classes to throw for what saga-bus retries: pass `@saga-bus/core`'s own
   * (`import { ConcurrencyError, TransientError } from "@saga-bus/core"`) where the store
   * cannot find them itself, as in a bundle. Default: core's, looked up at run time, or
   * this package's look-alikes when core cannot be loaded.
   */
  readonly retryableErrors?: RetryableErrorsOption;
  /**
   * Sees every request with its context (operation, saga name, id, correlation id):
   * metrics, tracing, logs. See `createRequestMeter` and docs/operations.md.
   */
  readonly onRequest?: RequestObserver;
  /** Waits and jitter of cleanup's backoff and the ensure step's table waits (tests). */
  readonly timing?: Timing;
  /**
   * Shards per saga name (1 to 100; default 1, the seed's layout). More spread the sagas of
   * one name over more partitions, past one partition's throughput; listing then reads all of
   * them. Part of the table's contract: create the table with the same `shards`
   * (`createTable`/`ensureTable`); a store with another count refuses the table. See
   * docs/scale.md.
   */
  readonly shards?: number;
}

/** The layout of `shards` per saga name; throws `ConfigurationError` for another count. */
export const layoutFor = (shards: number | undefined): TableLayout => {
  if (shards === undefined || shards === 1) return DEFAULT_LAYOUT;
  if (!(isPositiveInteger(shards) && shards <= MAX_SHARDS)) {
    throw new ConfigurationError(
      "options.invalid",
      `shards must be a whole number from 1 to ${MAX_SHARDS}, got ${String(shards)}`,
    );
  }
  return shardedLayout(shards);
};

const resolveTable = (
  deps: Pick<
    DynamoDBSagaStoreDeps,
    "tableName" | "correlationIndexName" | "cleanupIndexName" | "shards"
  >,
): TableNames => {
  for (const key of ["tableName", "correlationIndexName", "cleanupIndexName"] as const) {
    const value = deps[key];
    if (value === undefined && key !== "tableName") continue;
    if (typeof value !== "string" || !DYNAMODB_NAME.test(value)) {
      throw new ConfigurationError(
        "options.invalid",
        `${key} must be a DynamoDB name (3-255 of A-Z a-z 0-9 _ . -), got ${JSON.stringify(value)}`,
      );
    }
  }
  return {
    tableName: deps.tableName,
    correlationIndexName: deps.correlationIndexName ?? DEFAULT_INDEX_NAMES.correlationIndexName,
    cleanupIndexName: deps.cleanupIndexName ?? DEFAULT_INDEX_NAMES.cleanupIndexName,
    layout: layoutFor(deps.shards),
  };
};

/**
 * Longest TTL accepted: 100 years. The expiry (epoch seconds) must stay an exact number for
 * the document client, and a longer TTL is a mistake rather than a policy.
 */
export const MAX_TTL_SECONDS = 100 * 365 * 24 * 60 * 60;

/** Whether `value` is a whole number above 0 (a safe integer). */
export const isPositiveInteger = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) > 0;

/** The store's options, checked and with their defaults. */
export interface ResolvedStoreOptions<TState extends SagaState> {
  readonly table: TableNames;
  readonly consistency: Consistency;
  readonly stateCodec: StateValidator<TState> | undefined;
  readonly completedSagaTtlSeconds: number | undefined;
  readonly classes: Promise<RetryableErrorClasses>;
  readonly timing: Timing;
  readonly observer: RequestObserver | undefined;
}

/** Checks the store's dependencies; throws `ConfigurationError` (`options.invalid`). */
export const resolveStoreOptions = <TState extends SagaState>(
  deps: DynamoDBSagaStoreDeps<TState>,
): ResolvedStoreOptions<TState> => {
  if (typeof deps?.send !== "function") {
    throw new ConfigurationError("options.invalid", "send must be a function");
  }
  const table = resolveTable(deps);
  const { stateCodec, completedSagaTtlSeconds } = deps;
  if (stateCodec !== undefined && !isStateValidator(stateCodec)) {
    throw new ConfigurationError(
      "options.invalid",
      "stateCodec must be an io-ts type or a Standard Schema validator",
    );
  }
  // 0.3.0 previews took `true` or `{ client, ttl }`: say what replaced them.
  if (deps.ensureTable !== undefined && typeof deps.ensureTable !== "function") {
    throw new ConfigurationError(
      "options.invalid",
      "ensureTable must be a step built by ensureTableFirst(client, { ttl?, … })",
    );
  }
  const consistency: Consistency = deps.consistency ?? "strong";
  if (consistency !== "strong" && consistency !== "eventual") {
    throw new ConfigurationError("options.invalid", `consistency must be "strong" or "eventual"`);
  }
  if (
    completedSagaTtlSeconds !== undefined &&
    !(isPositiveInteger(completedSagaTtlSeconds) && completedSagaTtlSeconds <= MAX_TTL_SECONDS)
  ) {
    throw new ConfigurationError(
      "options.invalid",
      `completedSagaTtlSeconds must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS} (100 years), got ${String(completedSagaTtlSeconds)}`,
    );
  }
  const classes = retryableErrorsFor(deps.retryableErrors);
  if (classes === undefined) {
    throw new ConfigurationError(
      "options.invalid",
      "retryableErrors must hold two classes: { ConcurrencyError, TransientError }",
    );
  }
  return {
    table,
    consistency,
    stateCodec,
    completedSagaTtlSeconds,
    classes,
    timing: deps.timing ?? REAL_TIMING,
    observer: deps.onRequest,
  };
};
