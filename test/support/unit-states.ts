/**
 * The saga of the unit tests (the store's in test/unit/store/, and those of the commands and
 * state values): its name, ids and table, its metadata, valid and completed states, the item
 * `insert` stores for a state, and a store over a fake `send`.
 */
import {
  createDynamoDBSagaStore,
  type DynamoDBSagaStoreDeps,
  type SagaState,
  type SagaStateMetadata,
} from "../../src";
import { encodeState } from "../../src/internals";
import { insertInput, type TableNames } from "../../src/commands";

export const NAME = "OrderSaga";
export const SAGA_ID = "saga-1";
export const CORRELATION_ID = "order-42";
/** A cleanup cutoff. */
export const CUTOFF = new Date("2024-05-02T08:00:00.000Z");
/** `metadata.updatedAt` of the completing states: their completion time. */
export const COMPLETED_AT = new Date("2024-05-02T08:00:00.000Z");
/** COMPLETED_AT in epoch seconds. */
export const COMPLETED_AT_SECONDS = Date.UTC(2024, 4, 2, 8, 0, 0) / 1000;
export const TABLE: TableNames = {
  tableName: "sagas",
  correlationIndexName: "GSI1",
  cleanupIndexName: "GSI2",
};

export type OrderState = SagaState & Record<string, unknown>;

/** Metadata of saga SAGA_ID at version 0, not completed, with `overrides`. */
export const metadata = (overrides: Partial<SagaStateMetadata> = {}): SagaStateMetadata => ({
  sagaId: SAGA_ID,
  version: 0,
  createdAt: new Date("2024-05-01T10:00:00.000Z"),
  updatedAt: new Date("2024-05-01T10:00:05.000Z"),
  isCompleted: false,
  ...overrides,
});

/** A valid state: application fields (with a Date) plus metadata. */
export const makeState = (
  fields: Record<string, unknown> = { total: 10, dueAt: new Date("2024-06-01T00:00:00.000Z") },
  meta: Partial<SagaStateMetadata> = {},
): OrderState => ({ ...fields, metadata: metadata(meta) });

/** A completed state as saga-bus writes it: `updatedAt` is the time of the completing write. */
export const completedState = (
  meta: Partial<SagaStateMetadata> = {},
  completedAt: Date = COMPLETED_AT,
): OrderState => makeState({}, { isCompleted: true, updatedAt: completedAt, ...meta });

/** The stored saga item of a state, as `insert` writes it (what a Get would answer). */
export const storedItem = (
  state: OrderState,
  correlationId = CORRELATION_ID,
): Record<string, unknown> =>
  insertInput(TABLE, NAME, correlationId, encodeState(state, {}, undefined)).TransactItems![0]!.Put!
    .Item as Record<string, unknown>;

/** The functional store over `send`, on table "sagas", with `deps` on top. */
export const makeStore = (
  send: DynamoDBSagaStoreDeps["send"],
  deps: Partial<DynamoDBSagaStoreDeps<OrderState>> = {},
) => createDynamoDBSagaStore<OrderState>({ send, tableName: "sagas", ...deps });
