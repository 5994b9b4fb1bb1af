/**
 * The functional store: validate, build a command input (commands.ts), send it through the
 * injected `send`, turn the answer or the failure into a value or a typed error. This is
 * the only module that performs I/O, and only through `deps.send`.
 */
import {
  GetCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type GetCommandOutput,
  type QueryCommandOutput,
  type ScanCommandOutput,
  type TransactWriteCommandOutput,
  type UpdateCommandOutput,
} from "@aws-sdk/lib-dynamodb";
import * as E from "fp-ts/lib/Either.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { pipe } from "fp-ts/lib/function.js";
import {
  cleanupActions,
  cleanupDeleteInput,
  cleanupScanInput,
  deleteInput,
  findByNameInput,
  getCorrelationIdOfSagaInput,
  getCorrelationInput,
  getSagaInput,
  INSERT_ACTIONS,
  insertInput,
  queryCorrelationIndexInput,
  updateInput,
  type CleanupVictim,
  type TableNames,
} from "./commands.js";
import type { SagaState, SagaStore } from "./contract.js";
import { loadRetryableErrors, type RetryableErrorClasses } from "./core-link.js";
import { decodeCursor, encodeCursor } from "./cursor.js";
import {
  ConfigurationError,
  InvalidStateError,
  SagaAlreadyExistsError,
  SagaNotFoundError,
  StateTooLargeError,
  type SagaStoreErrorInit,
} from "./errors.js";
import {
  attribute,
  cancellationReasons,
  isConditionalCheckFailure,
  toStoreError,
} from "./failures.js";
import { assertKeyParts, KEY_LIMITS } from "./keys.js";
import { decodeSagaItem, encodeState, type EncodedState, type StateCodec } from "./marshal.js";
import { itemSize, MAX_ITEM_BYTES } from "./size.js";

/** The lib-dynamodb commands the store sends. */
export type StoreCommand =
  GetCommand | QueryCommand | ScanCommand | UpdateCommand | TransactWriteCommand;

/** What `send` answers for each command. */
export type OutputOf<C extends StoreCommand> = C extends GetCommand
  ? GetCommandOutput
  : C extends QueryCommand
    ? QueryCommandOutput
    : C extends ScanCommand
      ? ScanCommandOutput
      : C extends UpdateCommand
        ? UpdateCommandOutput
        : TransactWriteCommandOutput;

/**
 * Performs one command: a `DynamoDBDocumentClient`'s `send` (bound to its client), or any
 * function of that shape: a fake in tests, a wrapper that adds tracing or metrics.
 */
export type Send = (command: StoreCommand) => Promise<unknown>;

/** Anything with a document client's `send` method: a `DynamoDBDocumentClient`, a wrapper. */
export interface DocumentClientLike {
  send(command: never): Promise<unknown>;
}

/**
 * A `Send` over a document client. Its `send` is overloaded for each command class, which a
 * union of commands cannot pick, so the one unavoidable cast lives here.
 */
export const sendVia =
  (client: DocumentClientLike): Send =>
  (command) =>
    client.send(command as never);

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
   * correlation index, half the read cost, but it may miss a saga inserted moments ago.
   */
  readonly consistency?: Consistency;
  /** Validates the application's state on every write and read. */
  readonly stateCodec?: StateCodec<TState>;
  /** Source of "now" (completion day); injectable for tests. */
  readonly clock?: () => Date;
  /** Parallel requests of `deleteCompletedBefore`. Default 4. */
  readonly cleanupConcurrency?: number;
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
  findByName(sagaName: string, options?: FindByNameOptions): Promise<FindByNameResult<TState>>;
  /** Deletes completed sagas of `sagaName` that completed before `before`; returns how many. */
  deleteCompletedBefore(sagaName: string, before: Date): Promise<number>;
}

/** Default index names, as in the seed README. */
export const DEFAULT_INDEX_NAMES = {
  correlationIndexName: "GSI1",
  cleanupIndexName: "GSI2",
} as const;

/** DynamoDB's limit of actions in one `TransactWriteItems`. */
const MAX_TRANSACTION_ACTIONS = 100;

const resolveTable = (
  deps: Pick<
    DynamoDBSagaStoreDeps,
    "send" | "tableName" | "correlationIndexName" | "cleanupIndexName"
  >,
): TableNames => {
  if (typeof deps.send !== "function") {
    throw new ConfigurationError("options.invalid", "send must be a function");
  }
  for (const key of ["tableName", "correlationIndexName", "cleanupIndexName"] as const) {
    const value = deps[key];
    if (
      value !== undefined &&
      (typeof value !== "string" || !/^[A-Za-z0-9_.-]{3,255}$/.test(value))
    ) {
      throw new ConfigurationError(
        "options.invalid",
        `${key} must be a valid DynamoDB name, got ${JSON.stringify(value)}`,
      );
    }
  }
  if (deps.tableName === undefined) {
    throw new ConfigurationError("options.invalid", "tableName is required");
  }
  return {
    tableName: deps.tableName,
    correlationIndexName: deps.correlationIndexName ?? DEFAULT_INDEX_NAMES.correlationIndexName,
    cleanupIndexName: deps.cleanupIndexName ?? DEFAULT_INDEX_NAMES.cleanupIndexName,
  };
};

const assertVersion = (name: string, value: unknown, init: SagaStoreErrorInit): void => {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new InvalidStateError(
      `${name} must be a non-negative integer, got ${String(value)}`,
      init,
    );
  }
};

// Room an update must leave for the attributes it does not rewrite (correlation id, GSI1).
const UPDATE_RESERVE_BYTES = 2 * KEY_LIMITS.correlationId + KEY_LIMITS.sagaName + 64;

const assertFits = (
  attributes: Record<string, unknown>,
  reserve: number,
  init: SagaStoreErrorInit,
): void => {
  const size = itemSize(attributes) + reserve;
  if (size > MAX_ITEM_BYTES) throw new StateTooLargeError(size, MAX_ITEM_BYTES, init);
};

const encodedAttributes = (encoded: EncodedState): Record<string, unknown> => ({
  ...encoded.metadata,
  state: encoded.state,
  stateDates: encoded.stateDates,
});

/**
 * Builds the store from its dependencies. Every function validates its input before any
 * request, so bad input never leaves a partial write behind.
 */
export const createDynamoDBSagaStore = <TState extends SagaState = SagaState>(
  deps: DynamoDBSagaStoreDeps<TState>,
): DynamoDBSagaStoreFunctions<TState> => {
  const table = resolveTable(deps);
  const { send, stateCodec } = deps;
  const consistency: Consistency = deps.consistency ?? "strong";
  if (consistency !== "strong" && consistency !== "eventual") {
    throw new ConfigurationError("options.invalid", `consistency must be "strong" or "eventual"`);
  }
  const cleanupConcurrency = deps.cleanupConcurrency ?? 4;
  const now = deps.clock ?? (() => new Date());
  // Started now so that a failure does not wait on module loading.
  const retryable: Promise<RetryableErrorClasses> = loadRetryableErrors();

  const request = <C extends StoreCommand>(command: C): TE.TaskEither<unknown, OutputOf<C>> =>
    TE.tryCatch(
      () => send(command) as Promise<OutputOf<C>>,
      (error) => error,
    );

  /** Runs a request; failures not handled by `recover` become typed errors and are thrown. */
  const perform = async <C extends StoreCommand, A = OutputOf<C>>(
    command: C,
    operation: string,
    init: SagaStoreErrorInit,
    recover: (error: unknown, classes: RetryableErrorClasses) => E.Either<unknown, A> = E.left,
  ): Promise<OutputOf<C> | A> => {
    const outcome = await request(command)();
    if (E.isRight(outcome)) return outcome.right;
    const classes = await retryable;
    return pipe(
      recover(outcome.left, classes),
      E.getOrElseW((error) => {
        throw toStoreError(error, operation, init, classes);
      }),
    );
  };

  const readSaga = async (sagaName: string, sagaId: string, consistentRead: boolean) => {
    const init = { sagaName, sagaId };
    const out = await perform(
      new GetCommand(getSagaInput(table, sagaName, sagaId, consistentRead)),
      "getById",
      init,
    );
    return out.Item === undefined ? null : decodeSagaItem(out.Item, init, stateCodec).state;
  };

  const getById = async (sagaName: string, sagaId: string): Promise<TState | null> => {
    assertKeyParts({ sagaName, sagaId }, { sagaName, sagaId });
    return readSaga(sagaName, sagaId, consistency === "strong");
  };

  const getByCorrelationId = async (
    sagaName: string,
    correlationId: string,
  ): Promise<TState | null> => {
    const init = { sagaName, correlationId };
    assertKeyParts({ sagaName, correlationId }, init);
    if (consistency === "eventual") {
      const out = await perform(
        new QueryCommand(queryCorrelationIndexInput(table, sagaName, correlationId)),
        "getByCorrelationId",
        init,
      );
      const item = out.Items?.[0];
      return item === undefined ? null : decodeSagaItem(item, init, stateCodec).state;
    }
    const guard = await perform(
      new GetCommand(getCorrelationInput(table, sagaName, correlationId)),
      "getByCorrelationId",
      init,
    );
    const sagaId = attribute(guard.Item, "sagaId");
    return typeof sagaId === "string" ? readSaga(sagaName, sagaId, true) : null;
  };

  const insert = async (sagaName: string, correlationId: string, state: TState): Promise<void> => {
    const init: SagaStoreErrorInit = { sagaName, sagaId: state?.metadata?.sagaId, correlationId };
    assertKeyParts({ sagaName, correlationId, sagaId: state?.metadata?.sagaId }, init);
    const encoded = encodeState(state, init, stateCodec);
    const input = insertInput(table, sagaName, correlationId, encoded, now());
    assertFits(input.TransactItems![INSERT_ACTIONS.saga]!.Put!.Item!, 0, init);
    await perform(new TransactWriteCommand(input), "insert", init, (error, classes) => {
      const reasons = cancellationReasons(error);
      if (reasons?.[INSERT_ACTIONS.saga]?.Code === "ConditionalCheckFailed") {
        return E.left(new SagaAlreadyExistsError(init));
      }
      if (reasons?.[INSERT_ACTIONS.correlation]?.Code === "ConditionalCheckFailed") {
        // Another saga holds this correlation id: the message lost a start race. saga-bus
        // retries a ConcurrencyError, and the retry finds the winner.
        const winner = attribute(reasons[INSERT_ACTIONS.correlation]!.Item, "sagaId");
        const conflict = new classes.ConcurrencyError(
          encoded.metadata.sagaId as string,
          encoded.version,
        );
        return E.left(Object.assign(conflict, { correlationId, existingSagaId: winner }));
      }
      return E.left(error);
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
    const encoded = encodeState(state, init, stateCodec);
    if (encoded.version <= expectedVersion) {
      throw new InvalidStateError(
        `metadata.version (${encoded.version}) must be greater than expectedVersion (${expectedVersion})`,
        init,
      );
    }
    assertFits(encodedAttributes(encoded), UPDATE_RESERVE_BYTES, init);
    const input = updateInput(table, sagaName, encoded, expectedVersion, now());
    await perform(new UpdateCommand(input), "update", init, (error, classes) => {
      if (!isConditionalCheckFailure(error)) return E.left(error);
      const stored = (error as { Item?: Record<string, unknown> }).Item;
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
      new GetCommand(getCorrelationIdOfSagaInput(table, sagaName, sagaId)),
      "delete",
      init,
    );
    const correlationId = attribute(found.Item, "correlationId");
    if (typeof correlationId !== "string") return; // already gone: delete is idempotent
    await perform(
      new TransactWriteCommand(deleteInput(table, sagaName, sagaId, correlationId)),
      "delete",
      { ...init, correlationId },
      (error) =>
        // The saga was deleted by someone else between the read and the transaction.
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
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
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
      new QueryCommand(
        findByNameInput(
          table,
          sagaName,
          { limit, startSortKey, completed },
          consistency === "strong",
        ),
      ),
      "findByName",
      init,
    );
    const items = (out.Items ?? []).map((item) => decodeSagaItem(item, init, stateCodec).state);
    const last = attribute(out.LastEvaluatedKey, "SK");
    return typeof last === "string" ? { items, lastKey: encodeCursor(last) } : { items };
  };

  /** Deletes one transaction's worth of victims; returns how many sagas it deleted. */
  const deleteBatch = async (
    sagaName: string,
    victims: readonly CleanupVictim[],
    before: Date,
  ): Promise<number> => {
    let batch = victims;
    while (batch.length > 0) {
      const failed = new Map<CleanupVictim, "saga" | "correlation">();
      const current = batch;
      await perform(
        new TransactWriteCommand(cleanupDeleteInput(table, sagaName, current, before)),
        "deleteCompletedBefore",
        { sagaName },
        (error) => {
          const reasons = cancellationReasons(error);
          if (!reasons?.some((r) => r.Code === "ConditionalCheckFailed")) return E.left(error);
          let action = 0;
          for (const victim of current) {
            if (reasons[action]?.Code === "ConditionalCheckFailed") failed.set(victim, "saga");
            else if (
              reasons[action + 1]?.Code === "ConditionalCheckFailed" &&
              !victim.keepCorrelation
            ) {
              failed.set(victim, "correlation");
            }
            action += cleanupActions(victim);
          }
          return E.right(undefined);
        },
      );
      if (failed.size === 0) return current.length;
      // The transaction was cancelled as a whole: drop sagas no longer eligible (reopened or
      // already gone), keep a correlation item that now belongs to another saga, and retry.
      batch = current.flatMap((victim) => {
        const why = failed.get(victim);
        if (why === "saga") return [];
        return why === "correlation" ? [{ ...victim, keepCorrelation: true }] : [victim];
      });
    }
    return 0;
  };

  const deleteCompletedBefore = async (sagaName: string, before: Date): Promise<number> => {
    assertKeyParts({ sagaName }, { sagaName });
    if (!(before instanceof Date) || Number.isNaN(before.getTime())) {
      throw new ConfigurationError("options.invalid", "deleteCompletedBefore needs a valid Date");
    }
    const segments = Math.max(1, cleanupConcurrency);
    const scanSegment = async (index: number): Promise<number> => {
      let count = 0;
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await perform(
          new ScanCommand(
            cleanupScanInput(table, sagaName, before, { index, total: segments }, startKey),
          ),
          "deleteCompletedBefore",
          { sagaName },
        );
        const victims: CleanupVictim[] = [];
        for (const item of page.Items ?? []) {
          const sagaId = attribute(item, "sagaId");
          const correlationId = attribute(item, "correlationId");
          if (typeof sagaId === "string" && typeof correlationId === "string") {
            victims.push({ sagaId, correlationId });
          }
        }
        for (let i = 0; i < victims.length; i += MAX_TRANSACTION_ACTIONS / 2) {
          count += await deleteBatch(
            sagaName,
            victims.slice(i, i + MAX_TRANSACTION_ACTIONS / 2),
            before,
          );
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined);
      return count;
    };
    const counts = await Promise.all(Array.from({ length: segments }, (_, i) => scanSegment(i)));
    return counts.reduce((a, b) => a + b, 0);
  };

  return {
    getById,
    getByCorrelationId,
    insert,
    update,
    delete: remove,
    findByName,
    deleteCompletedBefore,
  };
};
