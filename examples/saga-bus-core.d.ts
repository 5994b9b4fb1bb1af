/**
 * STAND-IN FOR TYPE-CHECKING ONLY. This is not `@saga-bus/core`, and nothing here runs.
 *
 * `@saga-bus/core` (and `@saga-bus/transport-inmemory`, which depends on it) cannot be
 * installed on the machines that build this package, yet `npx tsc -p tsconfig.json` type-checks
 * `examples/` in CI. These ambient declarations give the example the part of saga-bus's
 * public API it uses, restated from /work/shared/saga-bus-contract.md (store interface,
 * saga state, error classes) and from saga-bus's documented surface (`createBus`,
 * `createSagaMachine`, the in-memory transport). They are deliberately minimal: members the
 * example does not use are left out.
 *
 * Where `@saga-bus/core` is installed, TypeScript still prefers these ambient declarations
 * to the package's own types, so an application copying the example must not copy this
 * file (see examples/README.md).
 */

declare module "@saga-bus/core" {
  // ---- Messages -----------------------------------------------------------------------

  /** Every message has a `type` discriminator. */
  export interface BaseMessage {
    readonly type: string;
  }

  /** A message as a transport carries it. */
  export interface MessageEnvelope<T extends BaseMessage = BaseMessage> {
    /** Id of this delivery (a re-publish gets a new one). */
    readonly id: string;
    readonly type: T["type"];
    readonly payload: T;
    readonly headers: Readonly<Record<string, string>>;
    readonly timestamp: Date;
    readonly partitionKey?: string;
  }

  // ---- Saga state and store (the contract) -----------------------------------------------

  /** Bookkeeping the runtime keeps on every saga state. */
  export interface SagaStateMetadata {
    /** Unique per saga instance; the runtime generates it (a random UUID). */
    readonly sagaId: string;
    /** Optimistic-concurrency version: 0 on insert, +1 per update. */
    readonly version: number;
    readonly createdAt: Date;
    readonly updatedAt: Date;
    readonly isCompleted: boolean;
    readonly archivedAt?: Date | null;
    readonly traceParent?: string | null;
    readonly traceState?: string | null;
    readonly timeoutMs?: number | null;
    readonly timeoutExpiresAt?: Date | null;
  }

  /** A saga state: the application's fields plus `metadata`. Dates must come back as Dates. */
  export interface SagaState {
    readonly metadata: SagaStateMetadata;
  }

  /** What every saga store implements; the runtime calls these as methods. */
  export interface SagaStore<TState extends SagaState> {
    getById(sagaName: string, sagaId: string): Promise<TState | null>;
    getByCorrelationId(sagaName: string, correlationId: string): Promise<TState | null>;
    /** Throws if the saga exists. */
    insert(sagaName: string, correlationId: string, state: TState): Promise<void>;
    /** Throws `ConcurrencyError` on a version mismatch. */
    update(sagaName: string, state: TState, expectedVersion: number): Promise<void>;
    delete(sagaName: string, sagaId: string): Promise<void>;
  }

  // ---- Errors the runtime retries (every other error is dead-lettered) -------------------

  /** Optimistic-concurrency conflict. The runtime retries the message. */
  export class ConcurrencyError extends Error {
    readonly sagaId: string;
    readonly expectedVersion: number;
    readonly actualVersion?: number;
    constructor(sagaId: string, expectedVersion: number, actualVersion?: number);
  }

  /** A failure that may pass on retry. The runtime retries the message. */
  export class TransientError extends Error {
    readonly cause?: Error;
    constructor(message: string, cause?: Error);
  }

  // ---- Saga definitions ------------------------------------------------------------------

  /** What a handler sees besides the message and the state. */
  export interface SagaContext {
    readonly sagaName: string;
    readonly sagaId: string;
    readonly correlationId: string;
    readonly envelope: MessageEnvelope;
    /** Marks the saga completed. */
    complete(): void;
  }

  /** What a handler returns. */
  export interface SagaHandlerResult<TState extends SagaState> {
    readonly newState: TState;
    readonly isCompleted?: boolean;
  }

  /** A message handler of one message type. */
  export type SagaHandler<TState extends SagaState, TMessage extends BaseMessage> = (
    message: TMessage,
    state: TState,
    ctx: SagaContext,
  ) => Promise<SagaHandlerResult<TState>>;

  /** Options of `correlate`. */
  export interface CorrelateOptions {
    /** Whether a message of this type may start a saga. Default false. */
    readonly canStart?: boolean;
  }

  /** How a message finds its saga, and whether it may start one. */
  export interface SagaCorrelation<TMessage extends BaseMessage> {
    readonly canStart: boolean;
    getCorrelationId(message: TMessage): string | null;
  }

  /** A built saga definition, registered with `createBus`; the runtime calls its methods. */
  export interface SagaDefinition<TState extends SagaState, TMessages extends BaseMessage> {
    readonly name: string;
    readonly handledMessageTypes: ReadonlyArray<TMessages["type"]>;
    getCorrelation<T extends TMessages>(message: T): SagaCorrelation<T>;
    createInitialState<T extends TMessages>(message: T, ctx: SagaContext): Promise<TState>;
    handle<T extends TMessages>(
      message: T,
      state: TState,
      ctx: SagaContext,
    ): Promise<SagaHandlerResult<TState>>;
  }

  /** `.on(type)`: an optional guard, then the handler. */
  export interface HandlerBuilder<
    TState extends SagaState,
    TMessages extends BaseMessage,
    TMessage extends TMessages,
  > {
    when(guard: (state: TState) => boolean): HandlerBuilder<TState, TMessages, TMessage>;
    handle(handler: SagaHandler<TState, TMessage>): SagaMachineBuilder<TState, TMessages>;
  }

  /** The fluent builder `createSagaMachine` returns. */
  export interface SagaMachineBuilder<TState extends SagaState, TMessages extends BaseMessage> {
    name(sagaName: string): this;
    /** How a message type finds its saga; `"*"` for every type without its own rule. */
    correlate<TType extends TMessages["type"] | "*">(
      messageType: TType,
      getCorrelationId: (
        message: TType extends "*" ? TMessages : Extract<TMessages, { type: TType }>,
      ) => string | null,
      options?: CorrelateOptions,
    ): this;
    /** The state of a new saga; the runtime then sets its metadata (sagaId, version 0, …). */
    initial<TStart extends TMessages>(
      factory: (message: TStart, ctx: SagaContext) => TState | Promise<TState>,
    ): this;
    on<TType extends TMessages["type"]>(
      messageType: TType,
    ): HandlerBuilder<TState, TMessages, Extract<TMessages, { type: TType }>>;
    build(): SagaDefinition<TState, TMessages>;
  }

  export function createSagaMachine<
    TState extends SagaState,
    TMessages extends BaseMessage,
  >(): SagaMachineBuilder<TState, TMessages>;

  // ---- Transport and bus -----------------------------------------------------------------

  export interface TransportSubscribeOptions {
    readonly endpoint: string;
    readonly concurrency?: number;
    readonly group?: string;
  }

  export interface TransportPublishOptions {
    readonly endpoint: string;
    readonly key?: string;
    readonly headers?: Record<string, string>;
    readonly delayMs?: number;
  }

  /** Moves envelopes between publishers and subscribers. */
  export interface Transport {
    start(): Promise<void>;
    stop(): Promise<void>;
    subscribe<TMessage extends BaseMessage>(
      options: TransportSubscribeOptions,
      handler: (envelope: MessageEnvelope<TMessage>) => Promise<void>,
    ): Promise<void>;
    publish<TMessage extends BaseMessage>(
      message: TMessage,
      options: TransportPublishOptions,
    ): Promise<void>;
  }

  /** A saga and, optionally, its own store. */
  export interface SagaRegistration<TState extends SagaState, TMessages extends BaseMessage> {
    readonly definition: SagaDefinition<TState, TMessages>;
    /** Overrides `BusConfig.store` for this saga. */
    readonly store?: SagaStore<TState>;
  }

  export interface WorkerRetryPolicy {
    readonly maxAttempts: number;
    readonly baseDelayMs: number;
    readonly maxDelayMs: number;
    readonly backoff: "linear" | "exponential";
  }

  export interface WorkerConfig {
    /** Messages handled at once per endpoint. */
    readonly defaultConcurrency?: number;
    readonly retryPolicy?: WorkerRetryPolicy;
  }

  export interface BusConfig {
    readonly transport: Transport;
    /** Default store of every saga without its own. */
    readonly store?: SagaStore<SagaState>;
    readonly sagas: ReadonlyArray<SagaRegistration<SagaState, BaseMessage>>;
    readonly worker?: WorkerConfig;
  }

  export interface Bus {
    start(): Promise<void>;
    stop(): Promise<void>;
    isRunning(): boolean;
    /** Publishes to the endpoint named after the message type unless told otherwise. */
    publish<TMessage extends BaseMessage>(
      message: TMessage,
      options?: Partial<TransportPublishOptions>,
    ): Promise<void>;
  }

  export function createBus(config: BusConfig): Bus;
}

declare module "@saga-bus/transport-inmemory" {
  import type {
    BaseMessage,
    MessageEnvelope,
    Transport,
    TransportPublishOptions,
    TransportSubscribeOptions,
  } from "@saga-bus/core";

  export interface InMemoryTransportOptions {
    /** Handlers running at once per subscription. */
    readonly defaultConcurrency?: number;
  }

  /** In-process transport for tests and local development. */
  export class InMemoryTransport implements Transport {
    constructor(options?: InMemoryTransportOptions);
    start(): Promise<void>;
    stop(): Promise<void>;
    subscribe<TMessage extends BaseMessage>(
      options: TransportSubscribeOptions,
      handler: (envelope: MessageEnvelope<TMessage>) => Promise<void>,
    ): Promise<void>;
    publish<TMessage extends BaseMessage>(
      message: TMessage,
      options: TransportPublishOptions,
    ): Promise<void>;
  }
}
