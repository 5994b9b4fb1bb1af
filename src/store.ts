/**
 * The functional store: validate, build a command input (commands.ts), perform it through
 * the injected `send` (request.ts), turn the answer or the failure into a value or a typed
 * error. Every function validates its input before any request, so bad input never leaves
 * a partial write behind.
 */
import {
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import * as E from "fp-ts/lib/Either.js";
import { randomBytes } from "node:crypto";
import { deleteCompletedBefore as runCleanup, type CleanupOptions } from "./cleanup.js";
import {
  deleteInput,
  getCorrelationIdOfSagaInput,
  getWriteIdsInput,
  getCorrelationInput,
  getSagaInput,
  INSERT_ACTIONS,
  insertInput,
  legacyPartitionProbeInput,
  getLayoutMarkerInput,
  updateInput,
  updatedAttributes,
  writeIdSlots,
  layoutOf,
  type TableNames,
} from "./commands.js";
import type { SagaState, SagaStore } from "./contract.js";
import { allPages, findPage, type FindByNameOptions, type FindByNameResult } from "./listing.js";
import {
  ConfigurationError,
  InvalidItemError,
  InvalidStateError,
  layoutMismatch,
  SagaAlreadyExistsError,
  StateTooLargeError,
  UnmigratedTableError,
  type SagaStoreErrorInit,
} from "./errors.js";
import {
  attribute,
  cancellationReasons,
  isConditionalCheckFailure,
  isItemTooLarge,
} from "./failures.js";
import { assertKeyParts } from "./keys.js";
import { decodeSagaItem, encodeState, type EncodedState } from "./marshal.js";
import { validateWith } from "./validation.js";
import { ensuringTable, isEnsureStepFailure } from "./ensure-gate.js";
import { isPositiveInteger, resolveStoreOptions, type DynamoDBSagaStoreDeps } from "./options.js";
import { performer, type Perform, type RequestContext } from "./request.js";
import { itemSize, MAX_ITEM_BYTES } from "./size.js";

/** The store: saga-bus's contract plus listing and cleanup. Free functions, no `this`. */
export interface DynamoDBSagaStoreFunctions<TState extends SagaState> extends SagaStore<TState> {
  /**
   * One page of the sagas of a name, in saga id order (sharded without a `limit`: in order
   * within the page).
   */
  findByName(sagaName: string, options?: FindByNameOptions): Promise<FindByNameResult<TState>>;
  /** Every saga of a name, page after page. */
  findAllByName(
    sagaName: string,
    options?: Omit<FindByNameOptions, "startKey">,
  ): AsyncIterableIterator<TState>;
  /** Deletes completed sagas of `sagaName` that completed before `before`; returns how many. */
  deleteCompletedBefore(sagaName: string, before: Date, options?: CleanupOptions): Promise<number>;
}

const assertVersion = (name: string, value: unknown, init: SagaStoreErrorInit): void => {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new InvalidStateError(
      `${name} must be a non-negative integer, got ${String(value)}`,
      init,
    );
  }
};

const assertFits = (item: Readonly<Record<string, unknown>>, init: SagaStoreErrorInit): void => {
  const size = itemSize(item);
  if (size > MAX_ITEM_BYTES) throw new StateTooLargeError(size, MAX_ITEM_BYTES, init);
};

/** 16 random bytes: unique per update, so a retried request recognises its own write. */
const randomWriteId = (): string => randomBytes(16).toString("base64url");

/**
 * The item an update leaves, without the correlation attributes it keeps (which it does
 * not know): what no update may exceed, whatever its correlation id.
 */
const updatedItemLowerBound = (
  table: TableNames,
  sagaName: string,
  encoded: EncodedState,
  writeId: string,
): Record<string, unknown> => ({
  ...layoutOf(table).sagaKey(sagaName, encoded.metadata.sagaId as string),
  ...updatedAttributes(table, sagaName, encoded, { writeId }),
});

/** Builds the store from its dependencies. */
export const createDynamoDBSagaStore = <TState extends SagaState = SagaState>(
  deps: DynamoDBSagaStoreDeps<TState>,
): DynamoDBSagaStoreFunctions<TState> => {
  const { table, consistency, stateCodec, completedSagaTtlSeconds, classes, timing, observer } =
    resolveStoreOptions(deps);
  const newWriteId = randomWriteId;
  const layout = layoutOf(table);
  const direct = performer(deps.send, { classes, observer });
  // Every request goes through `perform`, so the ensure step is a decorator of it.
  const perform: Perform =
    deps.ensureTable === undefined
      ? direct
      : ensuringTable(direct, deps.ensureTable, { table, timing }, classes, observer);
  const writeOptions = { ttlSeconds: completedSagaTtlSeconds };

  /** The application's check of a state it is about to write: InvalidStateError if refused. */
  const checkBeforeWrite = async (state: TState, init: SagaStoreErrorInit): Promise<void> => {
    if (stateCodec === undefined || typeof state !== "object" || state === null) return;
    const outcome = await validateWith(stateCodec, state, "state");
    if (!outcome.ok) {
      throw new InvalidStateError(outcome.summary, { ...init, report: outcome.report });
    }
  };

  /** A stored saga item as the application's state, checked by its validator. */
  const decodeChecked = async (raw: unknown, init: SagaStoreErrorInit): Promise<TState> => {
    const { state } = decodeSagaItem<TState>(raw, init, undefined);
    if (stateCodec === undefined) return state;
    const outcome = await validateWith(stateCodec, state, "state");
    if (outcome.ok) return outcome.value;
    throw new InvalidItemError(`state fails the application's codec: ${outcome.summary}`, {
      ...init,
      report: outcome.report,
    });
  };

  const readSaga = async (
    context: RequestContext & { readonly sagaName: string },
    sagaId: string,
    consistentRead: boolean,
  ) => {
    const out = await perform(
      { ...context, sagaId },
      new GetCommand(getSagaInput(table, context.sagaName, sagaId, consistentRead)),
    );
    return out.Item === undefined ? null : decodeChecked(out.Item, { ...context, sagaId });
  };

  /** Whether a saga item exists (a consistent read of its key; nothing is decoded). */
  const sagaExists = async (sagaName: string, sagaId: string): Promise<boolean> => {
    const out = await perform(
      { operation: "insert", sagaName, sagaId },
      new GetCommand(getCorrelationIdOfSagaInput(table, sagaName, sagaId)),
    );
    return out.Item !== undefined;
  };

  // Per saga name: its 0.2.x probe, shared by concurrent misses; kept once it found nothing
  // (one probe per name and process), dropped when it found sagas or failed, so that the next
  // miss probes again.
  const legacyChecks = new Map<string, Promise<boolean>>();

  /**
   * Before answering "no saga": a saga of 0.2.x is invisible to this layout, and saga-bus
   * would start a second one for it. One probe per saga name until it finds none.
   */
  const assertNoLegacySagas = async (sagaName: string, init: SagaStoreErrorInit) => {
    let check = legacyChecks.get(sagaName);
    if (check === undefined) {
      check = holdsLegacySagas(sagaName, init);
      legacyChecks.set(sagaName, check);
      check.then(
        (found) => found && legacyChecks.delete(sagaName),
        () => legacyChecks.delete(sagaName),
      );
    }
    // Shared: the outcome. Each caller's error names its own saga and correlation id.
    if (await check) throw new UnmigratedTableError(table.tableName, init);
  };

  /**
   * Whether the name's 0.2.x partition holds a 0.2.x saga (one that names its saga in
   * `sagaName`; another application's item under the same key does not count). The first
   * item answers almost always; only behind such a foreign item are the rest read.
   */
  const holdsLegacySagas = async (sagaName: string, init: SagaStoreErrorInit) => {
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await perform(
        { ...init, operation: "legacyCheck" },
        new QueryCommand(legacyPartitionProbeInput(table, sagaName, startKey)),
      );
      if ((out.Items ?? []).some((item) => attribute(item, "sagaName") === sagaName)) return true;
      startKey = out.LastEvaluatedKey;
    } while (startKey !== undefined);
    return false;
  };

  // Checked once per process, on the first miss; a failed check is tried again.
  let layoutChecked: Promise<void> | undefined;

  /**
   * Before answering "no saga": a store whose shard count differs from the table's looks in
   * the wrong partitions and misses every saga (saga-bus would start a second one). The table
   * records a sharded layout in a marker item; none means the default layout.
   */
  const assertLayoutFits = (init: SagaStoreErrorInit): Promise<void> =>
    (layoutChecked ??= (async () => {
      const out = await perform(
        { ...init, operation: "layoutCheck" },
        new GetCommand(getLayoutMarkerInput(table)),
      );
      const recorded = attribute(out.Item, "shards");
      const shards = typeof recorded === "number" ? recorded : 1;
      if (recorded === undefined && layout.shards > 1) {
        // A table from CloudFormation or CDK: nothing wrote the marker yet.
        throw new ConfigurationError(
          "table.invalid",
          `table ${table.tableName} records no shard count, but the store has shards: ` +
            `${layout.shards}; record it once with \`saga-store-dynamodb --table ` +
            `${table.tableName} table ensure --shards ${layout.shards}\` (or ensureTable with ` +
            "shards), which refuses a table that already holds sagas of the default layout",
        );
      }
      if (shards !== layout.shards) throw layoutMismatch(table.tableName, shards, layout.shards);
    })().catch((error: unknown) => {
      layoutChecked = undefined;
      throw error;
    }));

  /**
   * `found`, or, for a miss, `null` once neither a store of another layout nor a 0.2.x saga
   * of the name can be what was missed (both checks cost a request once, then nothing).
   */
  const unlessLegacy = async (
    found: TState | null,
    sagaName: string,
    init: SagaStoreErrorInit,
  ): Promise<TState | null> => {
    if (found === null) {
      await Promise.all([assertLayoutFits(init), assertNoLegacySagas(sagaName, init)]);
    }
    return found;
  };

  const getById = async (sagaName: string, sagaId: string): Promise<TState | null> => {
    const init = { sagaName, sagaId };
    assertKeyParts({ sagaName, sagaId }, init);
    return unlessLegacy(
      await readSaga({ operation: "getById", sagaName }, sagaId, consistency === "strong"),
      sagaName,
      init,
    );
  };

  const getByCorrelationId = async (
    sagaName: string,
    correlationId: string,
  ): Promise<TState | null> => {
    const init = { sagaName, correlationId };
    assertKeyParts({ sagaName, correlationId }, init);
    const lookup = async (consistentRead: boolean): Promise<TState | null> => {
      const reservation = await perform(
        { ...init, operation: "getByCorrelationId" },
        new GetCommand(getCorrelationInput(table, sagaName, correlationId, consistentRead)),
      );
      const sagaId = attribute(reservation.Item, "sagaId");
      return typeof sagaId === "string"
        ? readSaga(
            { operation: "getByCorrelationId", sagaName, correlationId },
            sagaId,
            consistentRead,
          )
        : null;
    };
    if (consistency === "eventual") {
      const found = await lookup(false);
      if (found !== null) return found;
      // An eventually consistent read may not see a saga inserted moments ago, and saga-bus
      // drops a non-start message for which no saga is found: only the consistent path may
      // answer "none".
    }
    return unlessLegacy(await lookup(true), sagaName, init);
  };

  const insert = async (sagaName: string, correlationId: string, state: TState): Promise<void> => {
    const sagaId = state?.metadata?.sagaId;
    const init: SagaStoreErrorInit = { sagaName, sagaId, correlationId };
    assertKeyParts({ sagaName, correlationId, sagaId }, init);
    await checkBeforeWrite(state, init);
    const encoded = encodeState(state, init, undefined);
    const first = insertInput(table, sagaName, correlationId, encoded, writeOptions);
    // With room for the write ids of its updates: a saga inserted can be updated unchanged.
    const inserted = first.TransactItems![INSERT_ACTIONS.saga]!.Put!.Item!;
    assertFits({ ...inserted, ...writeIdSlots(layout, randomWriteId()) }, init);

    /** Sends one insert; on a lost race, answers the saga id that holds the correlation id. */
    const attempt = (orphanedBy?: string) =>
      perform(
        { ...init, operation: "insert" },
        new TransactWriteCommand(
          orphanedBy === undefined
            ? first
            : insertInput(table, sagaName, correlationId, encoded, {
                ...writeOptions,
                orphanedBy,
              }),
        ),
        (error) => {
          const reasons = cancellationReasons(error);
          if (reasons?.[INSERT_ACTIONS.saga]?.Code === "ConditionalCheckFailed") {
            return E.left(new SagaAlreadyExistsError(init));
          }
          const held = reasons?.[INSERT_ACTIONS.correlation];
          if (
            held?.Code === "ConditionalCheckFailed" ||
            reasons?.[INSERT_ACTIONS.orphan]?.Code === "ConditionalCheckFailed"
          ) {
            return E.right({ holder: attribute(held?.Item, "sagaId") });
          }
          return E.left(error);
        },
      );

    let outcome = await attempt();
    if (!("holder" in outcome)) return;
    const holder = outcome.holder;
    // The correlation id is held. Normally by a live saga (a lost start race); but if that
    // saga is gone (TTL, an interrupted cleanup) the correlation item is an orphan: take it over.
    if (typeof holder === "string" && !(await sagaExists(sagaName, holder))) {
      outcome = await attempt(holder);
      if (!("holder" in outcome)) return;
    }
    // saga-bus retries a ConcurrencyError; the retry finds the saga that won.
    const { ConcurrencyError } = await classes;
    throw Object.assign(new ConcurrencyError(sagaId, encoded.version), {
      correlationId,
      existingSagaId: typeof outcome.holder === "string" ? outcome.holder : holder,
    });
  };

  const update = async (
    sagaName: string,
    state: TState,
    expectedVersion: number,
  ): Promise<void> => {
    const sagaId = state?.metadata?.sagaId;
    const init: SagaStoreErrorInit = { sagaName, sagaId };
    assertKeyParts({ sagaName, sagaId }, init);
    assertVersion("expectedVersion", expectedVersion, init);
    await checkBeforeWrite(state, init);
    const encoded = encodeState(state, init, undefined);
    if (encoded.version <= expectedVersion) {
      throw new InvalidStateError(
        `metadata.version (${encoded.version}) must be greater than expectedVersion (${expectedVersion})`,
        init,
      );
    }
    const writeId = newWriteId();
    const input = updateInput(table, sagaName, encoded, expectedVersion, {
      ...writeOptions,
      writeId,
    });
    // The update does not know the correlation attributes its item keeps: refuse here only
    // what is too large even without them; DynamoDB judges the whole item (atomically).
    assertFits(updatedItemLowerBound(table, sagaName, encoded, writeId), init);
    const context = { ...init, operation: "update" };
    try {
      await perform(context, new UpdateCommand(input), (error, classes) => {
        if (isItemTooLarge(error)) {
          // Over the limit only with the correlation attributes the item keeps; DynamoDB
          // refused the whole update, so nothing was written.
          const size = itemSize(updatedItemLowerBound(table, sagaName, encoded, writeId));
          return E.left(new StateTooLargeError(size, MAX_ITEM_BYTES, { ...init, cause: error }));
        }
        if (!isConditionalCheckFailure(error)) return E.left(error);
        // DynamoDB returned the stored item with the failure: no second read needed.
        const stored = (error as { Item?: Record<string, unknown> }).Item;
        // The SDK retried a request whose answer was lost, and the first attempt was applied:
        // the condition now fails on the store's own write (or on later updates that landed
        // before the retry, which keep its id in a slot), and that is a success.
        if (holdsWriteId(stored, writeId)) return E.right(undefined);
        const actual = attribute(stored, "version");
        if (actual !== undefined) {
          return E.left(new classes.ConcurrencyError(sagaId, expectedVersion, Number(actual)));
        }
        // Gone since it was loaded (a concurrent message completed it and it was deleted, by
        // the runtime, cleanup or TTL): a conflict like any other, so saga-bus retries the
        // message, which then reads that there is no saga.
        return E.left(
          Object.assign(new classes.ConcurrencyError(sagaId, expectedVersion), {
            sagaName,
            notFound: true,
          }),
        );
      });
    } catch (error) {
      const key = { sagaName, sagaId: encoded.metadata.sagaId as string };
      if (await appliedDespite(error, context, key, writeId)) return;
      throw error;
    }
  };

  /** Whether a stored saga item (or its projection) holds `writeId` in one of its slots. */
  const holdsWriteId = (stored: Record<string, unknown> | undefined, writeId: string) =>
    layout.writeIdAttributes.some((slot) => attribute(stored, slot) === writeId);

  /**
   * Whether an update that failed with a retryable error was applied all the same: its answer
   * was lost and the SDK gave up retrying (or its retries were throttled). saga-bus would
   * retry the message and run the handler again on a state that already holds its effect, so
   * one strong read of the write ids decides. If that read fails too, the failure stands.
   */
  const appliedDespite = async (
    error: unknown,
    context: RequestContext,
    { sagaName, sagaId }: { readonly sagaName: string; readonly sagaId: string },
    writeId: string,
  ): Promise<boolean> => {
    // The ensure step failed: the update was never sent.
    if (isEnsureStepFailure(error)) return false;
    if (!(error instanceof (await classes).TransientError)) return false;
    try {
      // Past the ensure step, which must not run (and wait) twice within one operation.
      const out = await direct(context, new GetCommand(getWriteIdsInput(table, sagaName, sagaId)));
      return holdsWriteId(out.Item, writeId);
    } catch {
      return false;
    }
  };

  const remove = async (sagaName: string, sagaId: string): Promise<void> => {
    const init = { sagaName, sagaId };
    assertKeyParts({ sagaName, sagaId }, init);
    const found = await perform(
      { ...init, operation: "delete" },
      new GetCommand(getCorrelationIdOfSagaInput(table, sagaName, sagaId)),
    );
    const correlationId = attribute(found.Item, "correlationId");
    if (typeof correlationId !== "string") return; // already gone: delete is idempotent
    await perform(
      { operation: "delete", ...init, correlationId },
      new TransactWriteCommand(deleteInput(table, sagaName, sagaId, correlationId)),
      (error) =>
        // Deleted by someone else between the read and the transaction.
        cancellationReasons(error)?.[0]?.Code === "ConditionalCheckFailed"
          ? E.right(undefined)
          : E.left(error),
    );
  };

  const listing = { perform, table, consistency, decode: decodeChecked };
  const findByName = (sagaName: string, options?: FindByNameOptions) =>
    findPage(listing, sagaName, options);
  const findAllByName = (sagaName: string, options?: Omit<FindByNameOptions, "startKey">) =>
    allPages(listing, sagaName, options);

  const deleteCompletedBefore = async (
    sagaName: string,
    before: Date,
    options: CleanupOptions = {},
  ): Promise<number> => {
    assertKeyParts({ sagaName }, { sagaName });
    if (!(before instanceof Date) || Number.isNaN(before.getTime())) {
      throw new ConfigurationError("options.invalid", "deleteCompletedBefore needs a valid Date");
    }
    for (const key of ["concurrency", "segments"] as const) {
      const value = options[key];
      if (value !== undefined && !(isPositiveInteger(value) && value <= 1000)) {
        throw new ConfigurationError(
          "options.invalid",
          `deleteCompletedBefore ${key} must be an integer from 1 to 1000`,
        );
      }
    }
    return runCleanup({ perform, table, classes, timing }, sagaName, before, options);
  };

  return {
    getById,
    getByCorrelationId,
    insert,
    update,
    delete: remove,
    findByName,
    findAllByName,
    deleteCompletedBefore,
  };
};
