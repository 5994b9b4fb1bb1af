/**
 * A tiny saga-bus-like message loop: it drives a saga store exactly the way the saga-bus
 * runtime does (see /work/shared/saga-bus-contract.md), with a bounded pool of concurrent
 * workers over a queue, so that two messages of one saga can be handled at the same time.
 *
 * Per delivery:
 *
 * 1. `getByCorrelationId`.
 * 2. No saga: if the message may start one, build the initial state (fresh `sagaId`,
 *    version 0), `insert`, run the handler, `update` with version 1 / expectedVersion 0.
 *    If it may not, requeue it with a growing delay, a bounded number of times (it may have
 *    overtaken the message that starts its saga).
 * 3. Saga found: ignore the message if the saga is completed; otherwise run the handler and
 *    `update` with version + 1 / expectedVersion = the loaded version.
 * 4. A `ConcurrencyError` (a lost start race on `insert`, a lost update race on `update`)
 *    or a `TransientError` retries the delivery, as saga-bus's default error handler does;
 *    any other error dead-letters it.
 *
 * @packageDocumentation
 */
import { randomUUID } from "node:crypto";
import type { SagaState, SagaStateMetadata, SagaStore } from "../src/index.js";

/** What the loop needs to know about a saga: saga-bus's definition, reduced to functions. */
export interface LoopSagaDefinition<TState extends SagaState, TMessage> {
  readonly name: string;
  /** The application's id of a message, stable across redeliveries. */
  messageId(message: TMessage): string;
  correlationId(message: TMessage): string;
  canStart(message: TMessage): boolean;
  /** The state of a saga this (start) message creates. */
  initialState(message: TMessage, metadata: SagaStateMetadata): TState;
  /** Runs the handler; `duplicate` tells that the message had been applied already. */
  handle(
    message: TMessage,
    state: TState,
  ): { readonly newState: TState; readonly isCompleted: boolean; readonly duplicate: boolean };
}

/** Retry limits and delays, as a transport's redelivery policy. */
export interface RetryPolicy {
  /** Attempts of a delivery that keeps failing with a retryable error. */
  readonly maxAttempts: number;
  /** Requeues of a message that arrives before its saga exists. */
  readonly maxRequeues: number;
  /** Dead letters after which the loop stops taking messages (something is broken). */
  readonly maxDeadLetters: number;
}

/** Defaults of {@link RetryPolicy}. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 12,
  maxRequeues: 10,
  maxDeadLetters: 25,
};

/** A delivery the loop gave up on. */
export interface DeadLetter {
  readonly messageId: string;
  readonly correlationId: string;
  readonly reason: string;
}

/** Running totals of a loop; read them while it runs for progress. */
export interface LoopStats {
  /** Deliveries queued at the start (duplicates included). */
  readonly deliveries: number;
  /** Deliveries finished one way or another (applied, ignored, dead-lettered). */
  handled: number;
  /** Deliveries whose handler changed the state. */
  applied: number;
  sagasStarted: number;
  sagasCompleted: number;
  /** `update` lost a race (ConcurrencyError): the delivery was retried. */
  conflictsRetried: number;
  /** `insert` lost a start race (ConcurrencyError): the delivery was retried. */
  duplicateStartsPrevented: number;
  /** The handler found the message id already applied. */
  duplicatesIgnored: number;
  /** The saga had completed: the delivery was ignored, as saga-bus does. */
  ignoredCompleted: number;
  /** Arrived before its saga existed and could not start one: requeued. */
  requeuedBeforeStart: number;
  /** `TransientError` (throttling, 5xx, network): the delivery was retried. */
  transientRetried: number;
  readonly deadLettered: DeadLetter[];
  /** Successful `update`s per correlation id: the version each saga must end at. */
  readonly updates: Map<string, number>;
  /** Stopped early: too many dead letters. */
  aborted: boolean;
}

/** Options of {@link runMessageLoop}. */
export interface LoopOptions<TState extends SagaState, TMessage> {
  readonly store: SagaStore<TState>;
  readonly definition: LoopSagaDefinition<TState, TMessage>;
  /** Deliveries, in delivery order. */
  readonly deliveries: readonly TMessage[];
  /** Deliveries handled at the same time. */
  readonly concurrency: number;
  readonly retry?: RetryPolicy;
  /** Receives the live totals as soon as the loop starts (for progress). */
  readonly onStart?: (stats: Readonly<LoopStats>) => void;
  /** Stops the workers (after the deliveries in flight): Ctrl-C. */
  readonly signal?: AbortSignal;
}

interface Delivery<TMessage> {
  readonly message: TMessage;
  attempts: number;
  requeues: number;
}

type Outcome =
  | { readonly kind: "applied"; readonly completed: boolean }
  | { readonly kind: "duplicate" }
  | { readonly kind: "ignored-completed" }
  | { readonly kind: "requeue" }
  | { readonly kind: "retry"; readonly cause: "conflict" | "start-race" | "transient" };

/** Checks by name, as the brief of the demo asks: works with core's classes and the store's. */
const isNamed = (error: unknown, name: string): boolean =>
  error instanceof Error && error.name === name;

const describeError = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/** Wakes every waiting worker when something changes (a message queued, one finished). */
class Signal {
  #waiters: Array<() => void> = [];
  wait(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
  notifyAll(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Handles one attempt of one delivery, the way the saga-bus runtime does. */
const attempt = async <TState extends SagaState, TMessage>(
  { store, definition }: Pick<LoopOptions<TState, TMessage>, "store" | "definition">,
  message: TMessage,
  stats: LoopStats,
): Promise<Outcome> => {
  const { name } = definition;
  const correlationId = definition.correlationId(message);
  let state = await store.getByCorrelationId(name, correlationId);
  if (state === null) {
    if (!definition.canStart(message)) return { kind: "requeue" };
    const now = new Date();
    state = definition.initialState(message, {
      sagaId: randomUUID(),
      version: 0,
      createdAt: now,
      updatedAt: now,
      isCompleted: false,
    });
    try {
      await store.insert(name, correlationId, state);
    } catch (error) {
      // Another start of this correlation id won: retrying finds its saga.
      if (isNamed(error, "ConcurrencyError")) return { kind: "retry", cause: "start-race" };
      throw error;
    }
    stats.sagasStarted++;
  } else if (state.metadata.isCompleted) {
    return { kind: "ignored-completed" };
  }

  const result = definition.handle(message, state);
  const expectedVersion = state.metadata.version;
  const newState: TState = {
    ...result.newState,
    metadata: {
      ...result.newState.metadata,
      version: expectedVersion + 1,
      updatedAt: new Date(),
      isCompleted: result.isCompleted,
    },
  };
  try {
    await store.update(name, newState, expectedVersion);
  } catch (error) {
    if (isNamed(error, "ConcurrencyError")) return { kind: "retry", cause: "conflict" };
    throw error;
  }
  stats.updates.set(correlationId, (stats.updates.get(correlationId) ?? 0) + 1);
  return result.duplicate
    ? { kind: "duplicate" }
    : { kind: "applied", completed: result.isCompleted };
};

/**
 * Handles every delivery with `concurrency` workers; resolves when each one has been
 * applied, ignored or dead-lettered (or the loop aborted).
 */
export const runMessageLoop = async <TState extends SagaState, TMessage>(
  options: LoopOptions<TState, TMessage>,
): Promise<LoopStats> => {
  const { definition, concurrency } = options;
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const stats: LoopStats = {
    deliveries: options.deliveries.length,
    handled: 0,
    applied: 0,
    sagasStarted: 0,
    sagasCompleted: 0,
    conflictsRetried: 0,
    duplicateStartsPrevented: 0,
    duplicatesIgnored: 0,
    ignoredCompleted: 0,
    requeuedBeforeStart: 0,
    transientRetried: 0,
    deadLettered: [],
    updates: new Map(),
    aborted: false,
  };
  options.onStart?.(stats);

  const ready: Array<Delivery<TMessage>> = options.deliveries.map((message) => ({
    message,
    attempts: 0,
    requeues: 0,
  }));
  let next = 0; // index of the next ready delivery (cheaper than shift)
  let delayed = 0;
  let inFlight = 0;
  const changed = new Signal();

  /** Puts a delivery back at the end of the queue after `ms`, as a transport's redelivery. */
  const later = (delivery: Delivery<TMessage>, ms: number) => {
    delayed++;
    setTimeout(() => {
      delayed--;
      ready.push(delivery);
      changed.notifyAll();
    }, ms);
  };

  const deadLetter = (delivery: Delivery<TMessage>, reason: string) => {
    stats.deadLettered.push({
      messageId: definition.messageId(delivery.message),
      correlationId: definition.correlationId(delivery.message),
      reason,
    });
    stats.handled++;
    if (stats.deadLettered.length >= policy.maxDeadLetters) stats.aborted = true;
  };

  const finish = (delivery: Delivery<TMessage>, outcome: Outcome) => {
    switch (outcome.kind) {
      case "applied":
        stats.applied++;
        if (outcome.completed) stats.sagasCompleted++;
        stats.handled++;
        return;
      case "duplicate":
        stats.duplicatesIgnored++;
        stats.handled++;
        return;
      case "ignored-completed":
        stats.ignoredCompleted++;
        stats.handled++;
        return;
      case "requeue":
        if (delivery.requeues >= policy.maxRequeues) {
          deadLetter(
            delivery,
            `no saga after ${delivery.requeues} requeues, and it cannot start one`,
          );
          return;
        }
        stats.requeuedBeforeStart++;
        delivery.requeues++;
        later(delivery, Math.min(1000, 20 * 2 ** delivery.requeues));
        return;
      case "retry":
        if (outcome.cause === "conflict") stats.conflictsRetried++;
        else if (outcome.cause === "start-race") stats.duplicateStartsPrevented++;
        else stats.transientRetried++;
        delivery.attempts++;
        if (delivery.attempts >= policy.maxAttempts) {
          deadLetter(
            delivery,
            `still failing (${outcome.cause}) after ${delivery.attempts} attempts`,
          );
          return;
        }
        // Full jitter, growing with the attempts: racing deliveries spread out.
        later(delivery, Math.random() * Math.min(500, 5 * 2 ** delivery.attempts));
        return;
    }
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      if (stats.aborted || options.signal?.aborted) return;
      const delivery = ready[next];
      if (delivery === undefined) {
        if (delayed === 0 && inFlight === 0) {
          changed.notifyAll(); // let the other idle workers see that the queue is drained
          return;
        }
        await changed.wait();
        continue;
      }
      next++;
      inFlight++;
      try {
        finish(delivery, await attempt(options, delivery.message, stats));
      } catch (error) {
        if (isNamed(error, "TransientError")) {
          finish(delivery, { kind: "retry", cause: "transient" });
        } else {
          deadLetter(delivery, describeError(error));
        }
      } finally {
        inFlight--;
        changed.notifyAll();
      }
    }
  };

  // Idle workers wait for a change; an abort is one.
  options.signal?.addEventListener("abort", () => changed.notifyAll(), { once: true });
  await Promise.all(Array.from({ length: concurrency }, worker));
  return stats;
};
