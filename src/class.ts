/**
 * The seed's class API, as a thin shell: it builds the functional store and hands each call
 * to it. There is no second implementation here.
 */
import type { SagaState } from "./contract.js";
import type { CleanupOptions } from "./cleanup.js";
import { sendVia, type DocumentClientLike } from "./request.js";
import type { DynamoDBSagaStoreDeps } from "./options.js";
import type { FindByNameOptions, FindByNameResult } from "./listing.js";
import { createDynamoDBSagaStore, type DynamoDBSagaStoreFunctions } from "./store.js";

/**
 * Options of `new DynamoDBSagaStore(...)`: the seed README's `client` and `tableName`, and the
 * functional store's options, documented there (`DynamoDBSagaStoreDeps`). `client` stands in
 * for `send`; `timing`, a hook for the store's own tests, is left out.
 */
export interface DynamoDBSagaStoreOptions<TState extends SagaState = SagaState> extends Omit<
  DynamoDBSagaStoreDeps<TState>,
  "send" | "timing"
> {
  /** DynamoDB Document Client (anything with its `send`). */
  readonly client: DocumentClientLike;
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
