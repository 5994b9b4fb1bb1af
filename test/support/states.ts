/** Saga states for tests, shaped the way the saga-bus runtime builds them. */
import { randomUUID } from "node:crypto";
import type { SagaState, SagaStateMetadata } from "../../src";

/** An order-fulfilment saga state with nested objects, arrays and Dates. */
export interface OrderState extends SagaState {
  readonly orderId: string;
  readonly status: string;
  readonly placedAt: Date;
  readonly lines: ReadonlyArray<{ sku: string; qty: number; reservedAt: Date | null }>;
  readonly customer: { name: string; address: { city: string; since: Date } };
  readonly applied: readonly string[];
}

/** Metadata of a saga that has just started (version 0). */
export const startMetadata = (overrides: Partial<SagaStateMetadata> = {}): SagaStateMetadata => {
  const now = new Date();
  return {
    sagaId: randomUUID(),
    version: 0,
    createdAt: now,
    updatedAt: now,
    isCompleted: false,
    ...overrides,
  };
};

/** A fresh order state. */
export const orderState = (orderId: string, metadata = startMetadata()): OrderState => ({
  metadata,
  orderId,
  status: "placed",
  placedAt: new Date(Date.UTC(2026, 10, 25, 12, 34, 56, 789)),
  lines: [
    { sku: "A-1", qty: 2, reservedAt: new Date(Date.UTC(2026, 10, 25, 12, 35, 0, 1)) },
    { sku: "B-2", qty: 1, reservedAt: null },
  ],
  customer: { name: "Ada", address: { city: "Zürich", since: new Date(Date.UTC(1999, 0, 1)) } },
  applied: [],
});

/** The next version of a state, as the runtime passes it to `update`. */
export const nextVersion = <T extends SagaState>(
  state: T,
  changes: Partial<T> = {},
  metadata: Partial<SagaStateMetadata> = {},
): T => ({
  ...state,
  ...changes,
  metadata: {
    ...state.metadata,
    version: state.metadata.version + 1,
    updatedAt: new Date(),
    ...metadata,
  },
});
