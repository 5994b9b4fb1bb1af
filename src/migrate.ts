/**
 * `migrateTable`: converts every 0.2.2 item of a table into today's layout, in place.
 *
 * A strongly consistent parallel scan finds the items whose `state` is a map (only 0.2.2
 * writes one); each becomes one transaction (see legacy.ts): today's saga item and its
 * correlation item, each only if absent, and the delete of the 0.2.2 item while it still has
 * the version read. So the run can be interrupted at any point and run again, today's store
 * instances may work on the table meanwhile, and a 0.2.2 worker's newer write is never lost:
 * its item is read again and migrated at its new version.
 */
import { GetCommand, ScanCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import * as E from "fp-ts/lib/Either.js";
import { DEFAULT_INDEX_NAMES, DYNAMODB_NAME, type TableNames } from "./commands.js";
import { loadRetryableErrors } from "./core-link.js";
import { ConfigurationError, type SagaStoreErrorInit } from "./errors.js";
import {
  attribute,
  cancellationReasons,
  isRetryable,
  toStoreError,
  type CancellationReason,
} from "./failures.js";
import {
  convertInput,
  finishInput,
  getCorrelationHolderInput,
  getLegacyInput,
  getSagaVersionInput,
  isLegacyItem,
  legacyScanInput,
  planMigration,
  prepareMigration,
  readCancellation,
  type Existing,
  type LegacySaga,
  type MigrationPlan,
  type RawItem,
} from "./legacy.js";
import { assertKeyParts } from "./keys.js";
import { meterSend } from "./metering.js";
import { limiter } from "./limiter.js";
import { scanSegments, settleAll, stopSignal } from "./parallel-scan.js";
import { backoff, REAL_TIMING, type Timing } from "./timing.js";
import { performer, type OutputOf, type Perform, type Send } from "./request.js";
import { MAX_TTL_SECONDS } from "./options.js";

/** Options of `migrateTable`. */
export interface MigrateOptions {
  /** Performs each request: `sendVia(docClient)`, or a wrapper. */
  readonly send: Send;
  readonly tableName: string;
  /** Correlation index name of today's store. Default `"GSI1"`. */
  readonly correlationIndexName?: string;
  /** Cleanup index name of today's store. Default `"GSI2"`. */
  readonly cleanupIndexName?: string;
  /** Write nothing; report what a run would do (reads today's items of each saga). */
  readonly dryRun?: boolean;
  /**
   * Turn ISO strings of the application's fields back into Dates (what 0.2.2 wrote for a
   * Date). Default `true`; see `LegacyReadOptions.reviveDates`.
   */
  readonly reviveDates?: boolean;
  /**
   * The store's `completedSagaTtlSeconds`, if it has one: completed sagas get the same
   * `expiresAt` (counted from their `updatedAt`) as if the store had completed them.
   */
  readonly completedSagaTtlSeconds?: number;
  /** Parallel scan segments. Default 4. */
  readonly segments?: number;
  /** Sagas migrated at once. Default 16. */
  readonly concurrency?: number;
  /** Called after every saga. */
  readonly onProgress?: (progress: MigrateProgress) => void;
  /** Backoff waits and jitter (tests). Default: real time. */
  readonly timing?: Timing;
}

/** A 0.2.2 item that was left as it is, and why. */
export interface MigrateSkip {
  /** Its saga name (its partition key, when the attribute is unusable). */
  readonly sagaName: string;
  /** Its saga id (its sort key, when the attribute is unusable). */
  readonly sagaId: string;
  readonly reason: string;
  /**
   * Whether it blocks its saga name: it is still in the table as a 0.2.x saga of a name the
   * store serves, so the store answers that name's lookup misses with `UnmigratedTableError`.
   */
  readonly blocking: boolean;
}

/** Running totals of a migration. */
export interface MigrateProgress {
  /** 0.2.2 items found so far. */
  readonly scanned: number;
  /** Converted to today's layout (in a dry run: would be). */
  readonly converted: number;
  /**
   * Found in today's layout already (an earlier, interrupted run; a store that moved the
   * saga on); their 0.2.2 item was deleted (in a dry run: would be).
   */
  readonly alreadyMigrated: number;
  /** Left as they are. */
  readonly skipped: number;
}

/** What a migration did (or, in a dry run, would do). */
export interface MigrateSummary extends Omit<MigrateProgress, "skipped"> {
  readonly dryRun: boolean;
  /** Items the scan read, of both layouts. */
  readonly examined: number;
  readonly skipped: readonly MigrateSkip[];
  /** Requests sent to DynamoDB (the SDK's own retries inside one request not counted). */
  readonly requests: number;
  /** Capacity units DynamoDB reported (`ReturnConsumedCapacity: TOTAL`). */
  readonly readCapacityUnits: number;
  readonly writeCapacityUnits: number;
}

/** Attempts per saga (a changing 0.2.2 item, a conflict, throttling) before giving up. */
export const MIGRATE_MAX_ATTEMPTS = 8;

const OPERATION = "migrate";

/**
 * A request that did not go through, as a value: a cancellation to read, a fault to retry,
 * or a `ValidationException` (DynamoDB refused this one request, not the run).
 */
class Refusal {
  constructor(
    readonly kind: "cancelled" | "retry" | "invalid",
    readonly error: unknown,
    readonly reasons: readonly CancellationReason[] = [],
  ) {}
}

/** How one saga ended. */
type Outcome =
  | { readonly kind: "converted" }
  | { readonly kind: "alreadyMigrated" }
  | { readonly kind: "skipped"; readonly skip: MigrateSkip };

interface Context {
  readonly perform: Perform;
  readonly table: TableNames;
  readonly options: MigrateOptions;
}

/**
 * Sends a command; a retryable fault and (for transactions) a cancellation by a failed
 * condition come back as a `Refusal`, anything else is thrown as the store's typed error.
 */
const attempt = <C extends GetCommand | ScanCommand | TransactWriteCommand>(
  ctx: Context,
  command: C,
  init: SagaStoreErrorInit,
): Promise<OutputOf<C> | Refusal> =>
  ctx.perform<C, Refusal>({ ...init, operation: OPERATION }, command, (error) => {
    const reasons = cancellationReasons(error);
    if (reasons?.some((reason) => reason.Code === "ConditionalCheckFailed")) {
      return E.right(new Refusal("cancelled", error, reasons));
    }
    if (isRetryable(error)) return E.right(new Refusal("retry", error));
    return isValidationFailure(error) ? E.right(new Refusal("invalid", error)) : E.left(error);
  });

const isValidationFailure = (error: unknown): boolean =>
  error instanceof Error && error.name === "ValidationException";

/** Sends a read until it gets through (or the attempts run out, which fails the run). */
const persist = async <C extends GetCommand | ScanCommand>(
  ctx: Context,
  command: () => C,
  init: SagaStoreErrorInit,
): Promise<OutputOf<C>> => {
  for (let n = 1; ; n++) {
    const result = await attempt(ctx, command(), init);
    if (!(result instanceof Refusal)) return result;
    if (result.kind !== "retry" || n >= MIGRATE_MAX_ATTEMPTS) {
      throw toStoreError(result.error, OPERATION, init, await loadRetryableErrors());
    }
    await backoff(ctx.options.timing ?? REAL_TIMING, n);
  }
};

/** Names a 0.2.2 item in a report, even when its attributes are unusable. */
const identify = (item: RawItem): { sagaName: string; sagaId: string } => {
  const text = (name: string, fallback: string) => {
    const value = attribute(item as Record<string, unknown>, name);
    return typeof value === "string" ? value : fallback;
  };
  return { sagaName: text("sagaName", text("PK", "?")), sagaId: text("sagaId", text("SK", "?")) };
};

/** Whether the store's check of a name's 0.2.x partition finds it: a 0.2.x saga of a usable name. */
const blocksItsName = (item: RawItem): boolean => {
  if (!isLegacyItem(item)) return false;
  try {
    assertKeyParts({ sagaName: item.sagaName }, { sagaName: String(item.sagaName) });
    return true;
  } catch {
    return false; // a name the store refuses is never looked up
  }
};

const skipped = (item: RawItem, reason: string, gone = false): Outcome => ({
  kind: "skipped",
  skip: { ...identify(item), reason, blocking: !gone && blocksItsName(item) },
});

/** Reads what exists of a saga in today's layout (dry runs). */
const readExisting = async (ctx: Context, saga: LegacySaga): Promise<Existing> => {
  const { sagaName, correlationId } = saga;
  const { sagaId } = saga.state.metadata;
  const init = { sagaName, sagaId };
  const sagaItem = await persist(
    ctx,
    () => new GetCommand(getSagaVersionInput(ctx.table, sagaName, sagaId)),
    init,
  );
  const version = attribute(sagaItem.Item, "version");
  if (typeof version === "number") return { sagaVersion: version };
  const reservation = await persist(
    ctx,
    () => new GetCommand(getCorrelationHolderInput(ctx.table, sagaName, correlationId)),
    init,
  );
  const holder = attribute(reservation.Item, "sagaId");
  return { correlationHolder: typeof holder === "string" ? holder : undefined };
};

/** The outcome a plan that went through (or, in a dry run, would) stands for. */
const outcomeOf = (plan: Exclude<MigrationPlan, { kind: "skip" }>): Outcome =>
  plan.kind === "convert" ? { kind: "converted" } : { kind: "alreadyMigrated" };

/**
 * Migrates one 0.2.2 item. Starts from the common case (nothing of it in today's layout)
 * and lets the transaction's conditions say otherwise: each cancellation tells what exists,
 * and the next attempt is planned from that. Never more than `MIGRATE_MAX_ATTEMPTS`.
 */
const migrateItem = async (ctx: Context, found: RawItem): Promise<Outcome> => {
  const { table, options } = ctx;
  const readOptions = {
    ttlSeconds: options.completedSagaTtlSeconds,
    ...(options.reviveDates === undefined ? {} : { reviveDates: options.reviveDates }),
  };
  let item = found;
  let existing: Existing = {};
  let lastFault: unknown;
  for (let n = 0; n < MIGRATE_MAX_ATTEMPTS; n++) {
    const prepared = prepareMigration(table, item, readOptions);
    if (E.isLeft(prepared)) return skipped(item, prepared.left);
    const { saga, encoded } = prepared.right;
    const { sagaId, version } = saga.state.metadata;
    const init = { sagaName: saga.sagaName, sagaId };
    if (options.dryRun === true) existing = await readExisting(ctx, saga);
    const plan = planMigration(sagaId, version, existing);
    if (plan.kind === "skip") return skipped(item, plan.reason);
    if (options.dryRun === true) return outcomeOf(plan);
    const input =
      plan.kind === "convert"
        ? convertInput(table, saga, encoded, plan.correlation, readOptions)
        : finishInput(table, saga);
    const result = await attempt(ctx, new TransactWriteCommand(input), init);
    if (!(result instanceof Refusal)) return outcomeOf(plan);
    if (result.kind === "invalid") {
      const message = result.error instanceof Error ? result.error.message : String(result.error);
      // AWS messages are short; the cut only guards the report against an unusual one.
      return skipped(item, `DynamoDB refused the migration: ${message.slice(0, 200)}`);
    }
    if (result.kind === "retry") {
      // Throttling, a conflict with a concurrent write, a lost answer: the same plan again.
      lastFault = result.error;
      await backoff(ctx.options.timing ?? REAL_TIMING, n + 1);
      continue;
    }
    lastFault = undefined;
    const cancellation = readCancellation(plan, sagaId, result.reasons, existing);
    existing = cancellation.existing;
    if (cancellation.legacy === "unchanged") continue;
    const fresh =
      cancellation.legacy === "gone"
        ? undefined
        : (
            await persist(
              ctx,
              () => new GetCommand(getLegacyInput(table, saga.sagaName, sagaId)),
              init,
            )
          ).Item;
    if (fresh === undefined) {
      // Gone: migrated by an earlier attempt whose answer was lost, or deleted by 0.2.2.
      return existing.sagaVersion !== undefined
        ? { kind: "alreadyMigrated" }
        : skipped(item, "the 0.2.2 item was deleted while it was being migrated", true);
    }
    item = fresh;
  }
  if (lastFault !== undefined) {
    throw toStoreError(lastFault, OPERATION, identify(item), await loadRetryableErrors());
  }
  return skipped(
    item,
    `still changing after ${MIGRATE_MAX_ATTEMPTS} attempts (is a 0.2.2 worker still writing it?)`,
  );
};

const isWholeNumber = (value: unknown, max: number): boolean =>
  Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= max;

/** Refuses options that would fail later, before any request. */
const checkOptions = (options: MigrateOptions): TableNames => {
  const problem = (() => {
    if (typeof options?.send !== "function") return "send must be a function";
    if (typeof options.tableName !== "string" || !DYNAMODB_NAME.test(options.tableName)) {
      return `tableName must be a DynamoDB name (3-255 of A-Z a-z 0-9 _ . -), got ${JSON.stringify(options.tableName)}`;
    }
    for (const key of ["segments", "concurrency"] as const) {
      const value = options[key];
      if (value !== undefined && !isWholeNumber(value, 1000)) {
        return `${key} must be a whole number from 1 to 1000, got ${String(value)}`;
      }
    }
    const ttl = options.completedSagaTtlSeconds;
    if (ttl !== undefined && !isWholeNumber(ttl, MAX_TTL_SECONDS)) {
      return `completedSagaTtlSeconds must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS}`;
    }
    return undefined;
  })();
  if (problem !== undefined) throw new ConfigurationError("options.invalid", `migrate: ${problem}`);
  return {
    tableName: options.tableName,
    correlationIndexName: options.correlationIndexName ?? DEFAULT_INDEX_NAMES.correlationIndexName,
    cleanupIndexName: options.cleanupIndexName ?? DEFAULT_INDEX_NAMES.cleanupIndexName,
  };
};

/**
 * Converts every 0.2.2 item of a table into today's layout (see the module comment), and
 * answers what it did: items found, converted, found migrated already, skipped with their
 * reasons, and the requests it took. Safe to interrupt and run again; a second run finds
 * nothing to do. With `dryRun`, it writes nothing and answers what it would do.
 *
 * Skipped items stay as they are: a 0.2.2 item that cannot be converted (a missing
 * attribute, a saga name with `#`), or whose correlation id another saga holds in today's
 * layout. Throws the store's typed errors when a request fails for good (the table does not
 * exist, access denied, throttling beyond the retries).
 */
export const migrateTable = async (options: MigrateOptions): Promise<MigrateSummary> => {
  const table = checkOptions(options);
  const { segments = 4, concurrency = 16, onProgress } = options;
  const meter = meterSend(options.send);
  const ctx: Context = { perform: performer(meter.send), table, options };
  const limit = limiter(concurrency);
  const skips: MigrateSkip[] = [];
  const totals = { scanned: 0, examined: 0, converted: 0, alreadyMigrated: 0 };
  // Set on the first failure, so that the other segments and items stop instead of running on.
  const signal = stopSignal();

  const record = (outcome: Outcome): void => {
    if (outcome.kind === "skipped") skips.push(outcome.skip);
    else totals[outcome.kind]++;
    onProgress?.({
      scanned: totals.scanned,
      converted: totals.converted,
      alreadyMigrated: totals.alreadyMigrated,
      skipped: skips.length,
    });
  };

  await scanSegments(segments, signal, async (segment, startKey) => {
    const page = await persist(
      ctx,
      () => new ScanCommand(legacyScanInput(table, segment, startKey)),
      {},
    );
    const items = page.Items ?? [];
    totals.examined += page.ScannedCount ?? 0;
    totals.scanned += items.length;
    // Settled, not `Promise.all`: after a failure the run ends only once no request of
    // its own is in flight, so that a caller that runs it again does not race with it.
    await settleAll(
      items.map((item) =>
        signal.stopOnFailure(
          limit(async () => {
            if (!signal.stopped) record(await migrateItem(ctx, item));
          }),
        ),
      ),
    );
    return page.LastEvaluatedKey;
  });
  const metered = meter.snapshot();
  return {
    dryRun: options.dryRun === true,
    ...totals,
    skipped: skips,
    requests: metered.requests,
    readCapacityUnits: metered.readCapacityUnits,
    writeCapacityUnits: metered.writeCapacityUnits,
  };
};
