/**
 * The saga-bus store contract, carried here because `@saga-bus/core` is an optional peer.
 * These types are structurally identical to core's, so a store typed against them is
 * accepted wherever core expects a `SagaStore`.
 */

/** Bookkeeping the saga-bus runtime keeps on every saga state. */
export interface SagaStateMetadata {
  /** Unique per saga instance (the runtime uses a random UUID). */
  readonly sagaId: string;
  /** Optimistic-concurrency version: 0 on insert, +1 per update. */
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly isCompleted: boolean;
  readonly archivedAt?: Date | null;
  /** W3C trace context of the message that last touched the saga. */
  readonly traceParent?: string | null;
  readonly traceState?: string | null;
  readonly timeoutMs?: number | null;
  readonly timeoutExpiresAt?: Date | null;
}

/** A saga state: application fields plus the runtime's `metadata`. */
export interface SagaState {
  readonly metadata: SagaStateMetadata;
}

/** The interface every saga-bus store implements. */
export interface SagaStore<TState extends SagaState> {
  getById(sagaName: string, sagaId: string): Promise<TState | null>;
  getByCorrelationId(sagaName: string, correlationId: string): Promise<TState | null>;
  /** Throws if the saga (or another saga with this correlation id) exists. */
  insert(sagaName: string, correlationId: string, state: TState): Promise<void>;
  /** Throws `ConcurrencyError` when the stored version is not `expectedVersion`. */
  update(sagaName: string, state: TState, expectedVersion: number): Promise<void>;
  delete(sagaName: string, sagaId: string): Promise<void>;
}
