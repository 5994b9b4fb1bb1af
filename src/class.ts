/**
 * The seed's class API, as a thin shell: it builds the functional store and hands each call
 * to it. There is no second implementation here.
 */
import type { SagaState } from "./contract.js";
import type { RetryableErrorsOption } from "./core-link.js";
import type { StateValidator } from "./validation.js";
import type { CleanupOptions } from "./cleanup.js";
import { sendVia, type DocumentClientLike } from "./request.js";
import type { EnsureStep } from "./ensure-gate.js";
import type { Consistency } from "./options.js";
import {
  createDynamoDBSagaStore,
  type DynamoDBSagaStoreFunctions,
  type FindByNameOptions,
  type FindByNameResult,
} from "./store.js";

/** Options of `new DynamoDBSagaStore(...)`, as in the seed README, plus the store's extras. */
export interface DynamoDBSagaStoreOptions<TState extends SagaState = SagaState> {
  /** DynamoDB Document Client (anything with its `send`). */
  readonly client: DocumentClientLike;
  readonly tableName: string;
  /** Default `"GSI1"`. */
  readonly correlationIndexName?: string;
  /** Default `"GSI2"`. */
  readonly cleanupIndexName?: string;
  readonly consistency?: Consistency;
  /** An io-ts type or a Standard Schema validator of the state. */
  readonly stateCodec?: StateValidator<TState>;
  readonly completedSagaTtlSeconds?: number;
  /**
   * Opt-in: make the table ready before the first request, `ensureTableFirst(client,
   * { ttl: true })` (see the functional store's deps).
   */
  readonly ensureTable?: EnsureStep;
  /** The classes to throw for what saga-bus retries (see the functional store's deps). */
  readonly retryableErrors?: RetryableErrorsOption;
}

/** Saga store over DynamoDB, for `createBus({ sagas: [{ definition, store }] })`. */
export class DynamoDBSagaStore<TState extends SagaState = SagaState> {
  readonly #store: DynamoDBSagaStoreFunctions<TState>;

  constructor(options: DynamoDBSagaStoreOptions<TState>) {
    const { client, ...rest } = options;
    this.#store = createDynamoDBSagaStore<TState>({ ...rest, send: sendVia(client) });
  }

  getById(sagaName: string, sagaId: string): Promise<TState | null> {
    return this.#store.getById(sagaName, sagaId);
  }

  getByCorrelationId(sagaName: string, correlationId: string): Promise<TState | null> {
    return this.#store.getByCorrelationId(sagaName, correlationId);
  }

  insert(sagaName: string, correlationId: string, state: TState): Promise<void> {
    return this.#store.insert(sagaName, correlationId, state);
  }

  update(sagaName: string, state: TState, expectedVersion: number): Promise<void> {
    return this.#store.update(sagaName, state, expectedVersion);
  }

  delete(sagaName: string, sagaId: string): Promise<void> {
    return this.#store.delete(sagaName, sagaId);
  }

  findByName(sagaName: string, options?: FindByNameOptions): Promise<FindByNameResult<TState>> {
    return this.#store.findByName(sagaName, options);
  }

  findAllByName(
    sagaName: string,
    options?: Omit<FindByNameOptions, "startKey">,
  ): AsyncIterableIterator<TState> {
    return this.#store.findAllByName(sagaName, options);
  }

  deleteCompletedBefore(sagaName: string, before: Date, options?: CleanupOptions): Promise<number> {
    return this.#store.deleteCompletedBefore(sagaName, before, options);
  }
}
