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
  findByNameInput,
  getCorrelationIdOfSagaInput,
  getCorrelationInput,
  getSagaInput,
  INSERT_ACTIONS,
  insertInput,
  legacyPartitionProbeInput,
  updateInput,
  updatedAttributes,
  layoutOf,
  DEFAULT_INDEX_NAMES,
  DYNAMODB_NAME,
  type TableNames,
} from "./commands.js";
import type { SagaState, SagaStore } from "./contract.js";
import { retryableErrorsFor, type RetryableErrorsOption } from "./core-link.js";
import { decodeCursor, encodeCursor } from "./cursor.js";
import {
  ConfigurationError,
  InvalidItemError,
  InvalidStateError,
  SagaAlreadyExistsError,
  SagaNotFoundError,
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
import { isStateValidator, validateWith, type StateValidator } from "./validation.js";
import { ensuringTable } from "./ensure-gate.js";
import { REAL_TIMING, type Timing } from "./timing.js";
import {
  performer,
  type Perform,
  type RequestContext,
  type RequestObserver,
  type Send,
} from "./request.js";
import type { CreateTableOptions, TableClient } from "./table.js";
import { itemSize, MAX_ITEM_BYTES } from "./size.js";

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
   * costs two strongly consistent reads. `"eventual"`: the seed's single query of the
   * correlation index, a quarter of the read cost, but it may miss a saga inserted moments ago.
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
   * Opt-in: before its first request the store runs `ensureTable` with this client and
   * options (create the table if missing, add missing indexes, enable TTL with `ttl: true`).
   * Off by default: tables usually come from CloudFormation or CDK, and this needs
   * control-plane permissions. A failure surfaces from the operation and is retried on the next.
   */
  readonly ensureTable?: EnsureTableDeps;
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
}

/** What the store needs to run `ensureTable` itself. */
export interface EnsureTableDeps extends Omit<
  CreateTableOptions,
  "tableName" | "correlationIndexName" | "cleanupIndexName"
> {
  readonly client: TableClient;
}

/** Options of `findByName`. */
export interface FindByNameOptions {
  /** Items DynamoDB evaluates per page (before the `completed` filter). */
  readonly limit?: number;
  /** `lastKey` of the previous page. */
  readonly startKey?: string;
  /** Only completed (`true`) or only active (`false`) sagas. */
  readonly completed?: boolean;
}

/** One page of `findByName`. */
export interface FindByNameResult<TState> {
  readonly items: TState[];
  /** Opaque cursor of the next page; absent on the last page. */
  readonly lastKey?: string;
}

/** The store: saga-bus's contract plus listing and cleanup. Free functions, no `this`. */
export interface DynamoDBSagaStoreFunctions<TState extends SagaState> extends SagaStore<TState> {
  /** One page of the sagas of a name, in saga id order. */
  findByName(sagaName: string, options?: FindByNameOptions): Promise<FindByNameResult<TState>>;
  /** Every saga of a name, page after page. */
  findAllByName(
    sagaName: string,
    options?: Omit<FindByNameOptions, "startKey">,
  ): AsyncIterableIterator<TState>;
  /** Deletes completed sagas of `sagaName` that completed before `before`; returns how many. */
  deleteCompletedBefore(sagaName: string, before: Date, options?: CleanupOptions): Promise<number>;
}

const resolveTable = (
  deps: Pick<DynamoDBSagaStoreDeps, "tableName" | "correlationIndexName" | "cleanupIndexName">,
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
  };
};

/**
 * Longest TTL accepted: 100 years. The expiry (epoch seconds) must stay an exact number for
 * the document client, and a longer TTL is a mistake rather than a policy.
 */
export const MAX_TTL_SECONDS = 100 * 365 * 24 * 60 * 60;

const isPositiveInteger = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) > 0;

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

/** The `ensureTable` options of the store's opt-in ensure step. */
const tableOptionsOf = (
  { client: _client, ...options }: EnsureTableDeps,
  table: TableNames,
): CreateTableOptions => ({ ...options, ...table });

/** Builds the store from its dependencies. */
export const createDynamoDBSagaStore = <TState extends SagaState = SagaState>(
  deps: DynamoDBSagaStoreDeps<TState>,
): DynamoDBSagaStoreFunctions<TState> => {
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
  const newWriteId = randomWriteId;
  const classes = retryableErrorsFor(deps.retryableErrors);
  if (classes === undefined) {
    throw new ConfigurationError(
      "options.invalid",
      "retryableErrors must hold two classes: { ConcurrencyError, TransientError }",
    );
  }
  const observer = deps.onRequest;
  const timing = deps.timing ?? REAL_TIMING;
  const direct = performer(deps.send, { classes, observer });
  const ensured = deps.ensureTable;
  // Every request goes through `perform`, so the ensure step is a decorator of it.
  const perform: Perform =
    ensured === undefined
      ? direct
      : ensuringTable(
          direct,
          ensured.client,
          { ...tableOptionsOf(ensured, table), timing },
          classes,
          observer,
        );
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

  // Names whose 0.2.x partition was found empty: checked once per name and process.
  const migrated = new Set<string>();

  /**
   * Before answering "no saga": a saga of 0.2.x is invisible to this layout, and saga-bus
   * would start a second one for it. One probe per saga name until it finds nothing.
   */
  const assertNoLegacySagas = async (sagaName: string, init: SagaStoreErrorInit) => {
    if (migrated.has(sagaName)) return;
    const out = await perform(
      { ...init, operation: "legacyCheck" },
      new QueryCommand(legacyPartitionProbeInput(table, sagaName)),
    );
    if ((out.Items?.length ?? 0) > 0) throw new UnmigratedTableError(table.tableName, init);
    migrated.add(sagaName);
  };

  /** `found`, or, for a miss, `null` once no 0.2.x saga of the name can be what was missed. */
  const unlessLegacy = async (
    found: TState | null,
    sagaName: string,
    init: SagaStoreErrorInit,
  ): Promise<TState | null> => {
    if (found === null) await assertNoLegacySagas(sagaName, init);
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
    assertFits(first.TransactItems![INSERT_ACTIONS.saga]!.Put!.Item!, init);

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
    await perform({ ...init, operation: "update" }, new UpdateCommand(input), (error, classes) => {
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
      // the condition now fails on the store's own write, which is a success.
      if (attribute(stored, layoutOf(table).writeIdAttribute) === writeId) {
        return E.right(undefined);
      }
      const actual = attribute(stored, "version");
      return E.left(
        actual === undefined
          ? new SagaNotFoundError(init)
          : new classes.ConcurrencyError(sagaId, expectedVersion, Number(actual)),
      );
    });
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

  const findByName = async (
    sagaName: string,
    options: FindByNameOptions = {},
  ): Promise<FindByNameResult<TState>> => {
    const init = { sagaName };
    assertKeyParts({ sagaName }, init);
    const { limit, startKey, completed } = options;
    if (limit !== undefined && !isPositiveInteger(limit)) {
      throw new ConfigurationError(
        "options.invalid",
        `findByName limit must be a positive integer, got ${String(limit)}`,
      );
    }
    if (completed !== undefined && typeof completed !== "boolean") {
      throw new ConfigurationError("options.invalid", "findByName completed must be a boolean");
    }
    const startSortKey = startKey === undefined ? undefined : decodeCursor(startKey);
    const out = await perform(
      { ...init, operation: "findByName" },
      new QueryCommand(
        findByNameInput(
          table,
          sagaName,
          { limit, startSortKey, completed },
          consistency === "strong",
        ),
      ),
    );
    const items = await Promise.all((out.Items ?? []).map((item) => decodeChecked(item, init)));
    const last = attribute(out.LastEvaluatedKey, "SK");
    return typeof last === "string" ? { items, lastKey: encodeCursor(last) } : { items };
  };

  async function* findAllByName(
    sagaName: string,
    options: Omit<FindByNameOptions, "startKey"> = {},
  ): AsyncIterableIterator<TState> {
    let startKey: string | undefined;
    do {
      const page = await findByName(sagaName, { ...options, startKey });
      yield* page.items;
      startKey = page.lastKey;
    } while (startKey !== undefined);
  }

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
