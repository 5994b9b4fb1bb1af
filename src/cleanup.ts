/**
 * `deleteCompletedBefore`: finds completed sagas in the sparse cleanup index and deletes
 * them, with their correlation items, in full batches.
 *
 * 1. Scan the cleanup index (GSI2) in parallel segments. Only completed sagas are in it, so
 *    the scan reads completed sagas of every age and name, and keeps those of this name
 *    that completed before the cutoff.
 * 2. Per 25 found: one `BatchExecuteStatement` of conditional deletes of the sagas (each
 *    only if still completed before the cutoff), then one of their correlation items (each
 *    only if it still names its saga). A correlation item is deleted only after its saga, so
 *    an interruption can leave an orphaned correlation item, never a saga without one;
 *    `insert` takes orphaned correlation items over. Only a saga delete that returned the
 *    old item counts: a delete of a saga already gone (another cleanup, TTL) succeeds too.
 * 3. Statements that fail for a retryable reason are retried with exponential backoff and
 *    jitter; after `MAX_ATTEMPTS` the run fails with a `TransientError`.
 */
import { BatchExecuteStatementCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import * as E from "fp-ts/lib/Either.js";
import {
  cleanupScanInput,
  deleteCompletedSagasInput,
  deleteCorrelationsInput,
  MAX_BATCH_STATEMENTS,
  type CleanupVictim,
  type TableNames,
} from "./commands.js";
import type { RetryableErrorClasses } from "./core-link.js";
import { ConfigurationError, DynamoDBRequestError } from "./errors.js";
import { attribute, isRetryableReason } from "./failures.js";
import type { Perform } from "./request.js";
import { limiter } from "./limiter.js";
import { scanSegments, settleAll, stopSignal } from "./parallel-scan.js";
import { backoff, type Timing } from "./timing.js";

/** Progress of a cleanup run, reported after every batch. */
export interface CleanupProgress {
  /** Sagas this run deleted so far (not those another run or TTL deleted first). */
  readonly deleted: number;
  /** Candidates found by the scan so far (deleted, reopened or already gone). */
  readonly scanned: number;
}

/** Options of `deleteCompletedBefore`. */
export interface CleanupOptions {
  /** Requests in flight at once. Default 16. */
  readonly concurrency?: number;
  /** Parallel scan segments. Default 4. */
  readonly segments?: number;
  /** Called after every batch. */
  readonly onProgress?: (progress: CleanupProgress) => void;
}

/** Attempts per batch before unprocessed statements fail the run. */
export const MAX_ATTEMPTS = 8;

/** DynamoDB's refusal to read attributes an index does not project (0.2.2's KEYS_ONLY index). */
const isUnprojected = (error: unknown): boolean => {
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  return (
    name === "ValidationException" &&
    typeof message === "string" &&
    /does not project/.test(message)
  );
};

const unprojectedIndex = (table: TableNames, sagaName: string) =>
  new ConfigurationError(
    "table.invalid",
    `deleteCompletedBefore of saga "${sagaName}": the cleanup index ${table.cleanupIndexName} of table ${table.tableName} ` +
      "does not project sagaId, correlationId and completedAt (0.2.2 made it KEYS_ONLY); replace it with " +
      "ensureTable's replaceIndexes option or `saga-store-dynamodb table ensure --replace-indexes`",
  );

/** Dependencies of a cleanup run. */
export interface CleanupContext {
  readonly perform: Perform;
  readonly table: TableNames;
  /** The retryable error classes of the store. */
  readonly classes: Promise<RetryableErrorClasses>;
  /** Backoff waits and jitter. */
  readonly timing: Timing;
}

/** Outcome of `executeAll`. */
interface Executed {
  /** Victims whose statement succeeded. */
  readonly done: CleanupVictim[];
  /** How many of those statements returned an item (`RETURNING ALL OLD *`: really deleted). */
  readonly returned: number;
}

/**
 * Runs statements for `victims`; returns those whose statement succeeded. A failed
 * condition drops a victim; retryable failures are retried; anything else throws.
 */
const executeAll = async (
  ctx: CleanupContext,
  sagaName: string,
  victims: readonly CleanupVictim[],
  build: (victims: readonly CleanupVictim[]) => BatchExecuteStatementCommand,
): Promise<Executed> => {
  const done: CleanupVictim[] = [];
  let returned = 0;
  let pending = victims;
  let lastFailure: Error | undefined;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt === MAX_ATTEMPTS) {
      const { TransientError } = await ctx.classes;
      throw new TransientError(
        `deleteCompletedBefore of saga "${sagaName}": ${pending.length} deletes still unprocessed after ${MAX_ATTEMPTS} attempts`,
        lastFailure,
      );
    }
    if (attempt > 0) await backoff(ctx.timing, attempt);
    const out = await ctx.perform({ operation: "deleteCompletedBefore", sagaName }, build(pending));
    const responses = out.Responses ?? [];
    const retry: CleanupVictim[] = [];
    pending.forEach((victim, i) => {
      const error = responses[i]?.Error;
      const code = error?.Code;
      if (responses[i] !== undefined && code === undefined) {
        done.push(victim);
        if (responses[i]?.Item !== undefined) returned++;
        return;
      }
      if (code === "ConditionalCheckFailed") return;
      const failure = Object.assign(new Error(error?.Message ?? "no response for this statement"), {
        name: code ?? "MissingResponse",
      });
      if (code !== undefined && !isRetryableReason(code)) {
        throw new DynamoDBRequestError("deleteCompletedBefore", {
          sagaName,
          sagaId: victim.sagaId,
          cause: failure,
        });
      }
      lastFailure = failure;
      retry.push(victim);
    });
    pending = retry;
  }
  return { done, returned };
};

/**
 * Deletes the completed sagas of `sagaName` that completed before `before`; returns how many
 * this run deleted (a saga deleted first by a concurrent run or by TTL does not count).
 */
export const deleteCompletedBefore = async (
  ctx: CleanupContext,
  sagaName: string,
  before: Date,
  options: CleanupOptions = {},
): Promise<number> => {
  const { concurrency = 16, segments = 4, onProgress } = options;
  const limit = limiter(concurrency);
  let deleted = 0;
  let scanned = 0;
  // Set by the first failed batch or page: segments stop after their page, batches not begun
  // are skipped.
  const signal = stopSignal();

  const deleteBatch = async (victims: readonly CleanupVictim[]): Promise<void> => {
    if (signal.stopped) return;
    const sagas = await executeAll(
      ctx,
      sagaName,
      victims,
      (v) =>
        new BatchExecuteStatementCommand(deleteCompletedSagasInput(ctx.table, sagaName, v, before)),
    );
    // Every saga that is gone, deleted now or before (TTL leaves its correlation item behind).
    if (sagas.done.length > 0) {
      await executeAll(
        ctx,
        sagaName,
        sagas.done,
        (v) => new BatchExecuteStatementCommand(deleteCorrelationsInput(ctx.table, sagaName, v)),
      );
    }
    deleted += sagas.returned;
    onProgress?.({ deleted, scanned });
  };

  await scanSegments(segments, signal, async (segment, startKey) => {
    const page = await limit(() =>
      ctx.perform(
        { operation: "deleteCompletedBefore", sagaName },
        new ScanCommand(cleanupScanInput(ctx.table, sagaName, before, segment, startKey)),
        (error) => E.left(isUnprojected(error) ? unprojectedIndex(ctx.table, sagaName) : error),
      ),
    );
    const victims: CleanupVictim[] = [];
    for (const item of page.Items ?? []) {
      const sagaId = attribute(item, "sagaId");
      const correlationId = attribute(item, "correlationId");
      if (typeof sagaId === "string" && typeof correlationId === "string") {
        victims.push({ sagaId, correlationId });
      }
    }
    scanned += victims.length;
    const batches: Promise<void>[] = [];
    for (let i = 0; i < victims.length; i += MAX_BATCH_STATEMENTS) {
      const batch = victims.slice(i, i + MAX_BATCH_STATEMENTS);
      batches.push(signal.stopOnFailure(limit(() => deleteBatch(batch))));
    }
    // Every batch ends before the page does: a failure never leaves deletes running behind it.
    await settleAll(batches);
    return page.LastEvaluatedKey;
  });
  return deleted;
};
