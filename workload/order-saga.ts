/**
 * The order-fulfilment saga of the demo, the load test, the benchmarks and `examples/`: its
 * messages, its state and its handlers, as plain functions with no I/O, so that the tiny
 * saga-bus-like message loop (`message-loop.ts`) and saga-bus's `createSagaMachine` (in the
 * example) can both drive them.
 *
 * An order's saga is started by `OrderPlaced` and needs `PaymentCaptured`, `ItemsReserved`
 * and `OrderShipped`. Messages may arrive in any order and more than once, so:
 *
 * - every handler is idempotent: the state records the ids of the messages it has applied,
 *   and a message whose id is already there changes nothing;
 * - the saga completes when it has applied all four steps. Shipping is the last step in the
 *   business, but in a shuffled queue `OrderShipped` may overtake the others; the saga then
 *   records the shipment and completes with the last missing step.
 *
 * @packageDocumentation
 */
import type { SagaState, SagaStateMetadata } from "../src/index.js";
import type { LoopSagaDefinition } from "./message-loop.js";

/** The saga name under which the store keeps these sagas. */
export const SAGA_NAME = "OrderFulfilment";

/** The message types of the saga, in business order. */
export const MESSAGE_TYPES = [
  "OrderPlaced",
  "PaymentCaptured",
  "ItemsReserved",
  "OrderShipped",
] as const;

/** One of {@link MESSAGE_TYPES}. */
export type OrderMessageType = (typeof MESSAGE_TYPES)[number];

/** Fields every message of the saga carries. */
interface OrderMessageBase {
  readonly type: OrderMessageType;
  /** The correlation id: one saga per order. */
  readonly orderId: string;
  /**
   * The application's id of the message, stable across redeliveries (a transport's envelope
   * id may not be), used to recognise a message that was already applied.
   */
  readonly messageId: string;
}

/** A customer, as nested objects in the state. */
export interface Customer {
  readonly id: string;
  readonly name: string;
  readonly address: { readonly city: string; readonly country: string };
}

/** One line of an order. */
export interface OrderLine {
  readonly sku: string;
  readonly qty: number;
  /** Price of one unit, in cents. */
  readonly unitPrice: number;
}

/** Starts the saga. */
export interface OrderPlaced extends OrderMessageBase {
  readonly type: "OrderPlaced";
  readonly customer: Customer;
  readonly lines: readonly OrderLine[];
  readonly currency: string;
  readonly placedAt: Date;
}

/** The payment provider captured the order's amount. */
export interface PaymentCaptured extends OrderMessageBase {
  readonly type: "PaymentCaptured";
  readonly paymentId: string;
  /** In cents. */
  readonly amount: number;
  readonly capturedAt: Date;
}

/** The warehouse reserved every line. */
export interface ItemsReserved extends OrderMessageBase {
  readonly type: "ItemsReserved";
  readonly warehouse: string;
  readonly reservedAt: Date;
}

/** The carrier picked the parcel up. */
export interface OrderShipped extends OrderMessageBase {
  readonly type: "OrderShipped";
  readonly carrier: string;
  readonly trackingNumber: string;
  readonly shippedAt: Date;
}

/** Every message the saga handles. */
export type OrderMessage = OrderPlaced | PaymentCaptured | ItemsReserved | OrderShipped;

/** The message of one type. */
export type OrderMessageOf<K extends OrderMessageType> = Extract<OrderMessage, { type: K }>;

/** Where an order stands. */
export type OrderStatus =
  "placed" | "paid" | "reserved" | "paid-and-reserved" | "shipped-awaiting-steps" | "completed";

/** One applied message, kept in the state's history. */
export interface HistoryEntry {
  readonly type: OrderMessageType;
  readonly messageId: string;
  /** When the step happened (the message's own time). */
  readonly at: Date;
  /** Milliseconds from `placedAt` to `at`: computed with Date methods on the loaded state. */
  readonly sinceOrderMs: number;
}

/** The saga's state: nested objects, arrays and Dates, as saga-bus allows. */
export interface OrderState extends SagaState {
  readonly orderId: string;
  readonly status: OrderStatus;
  readonly customer: Customer;
  readonly lines: ReadonlyArray<OrderLine & { readonly reservedAt: Date | null }>;
  readonly total: { readonly amount: number; readonly currency: string };
  readonly placedAt: Date;
  readonly payment: {
    readonly paymentId: string;
    readonly amount: number;
    readonly paidAt: Date;
  } | null;
  readonly reservation: { readonly warehouse: string; readonly reservedAt: Date } | null;
  readonly shipment: {
    readonly carrier: string;
    readonly trackingNumber: string;
    readonly shippedAt: Date;
  } | null;
  /** Ids of the messages applied, each once. */
  readonly applied: readonly string[];
  readonly history: readonly HistoryEntry[];
  /** Latest `at` of the history. */
  readonly lastEventAt: Date;
}

/** What a handler returns: saga-bus's `SagaHandlerResult`, plus whether it was a duplicate. */
export interface OrderHandlerResult {
  readonly newState: OrderState;
  readonly isCompleted: boolean;
  /** The message had been applied before: the state is unchanged. */
  readonly duplicate: boolean;
}

/** Whether a message may start a saga: only `OrderPlaced`. */
export const canStart = (message: OrderMessage): message is OrderPlaced =>
  message.type === "OrderPlaced";

/** The correlation id of a message. */
export const correlationIdOf = (message: OrderMessage): string => message.orderId;

/** When the step a message reports happened. */
export const occurredAt = (message: OrderMessage): Date => {
  switch (message.type) {
    case "OrderPlaced":
      return message.placedAt;
    case "PaymentCaptured":
      return message.capturedAt;
    case "ItemsReserved":
      return message.reservedAt;
    case "OrderShipped":
      return message.shippedAt;
  }
};

/** The amount of an order, in cents. */
export const orderAmount = (lines: readonly OrderLine[]): number =>
  lines.reduce((sum, line) => sum + line.qty * line.unitPrice, 0);

/**
 * The state a new saga starts from (saga-bus's `initial`): the order's data, no step
 * applied yet. The runtime then runs the handler for the start message.
 */
export const initialOrderState = (
  message: OrderPlaced,
  metadata: SagaStateMetadata,
): OrderState => ({
  metadata,
  orderId: message.orderId,
  status: "placed",
  customer: message.customer,
  lines: message.lines.map((line) => ({ ...line, reservedAt: null })),
  total: { amount: orderAmount(message.lines), currency: message.currency },
  placedAt: message.placedAt,
  payment: null,
  reservation: null,
  shipment: null,
  applied: [],
  history: [],
  lastEventAt: message.placedAt,
});

const statusOf = (state: OrderState, complete: boolean): OrderStatus => {
  if (complete) return "completed";
  if (state.shipment !== null) return "shipped-awaiting-steps";
  if (state.payment !== null && state.reservation !== null) return "paid-and-reserved";
  if (state.payment !== null) return "paid";
  if (state.reservation !== null) return "reserved";
  return "placed";
};

/** Whether every step has been applied. */
export const allStepsApplied = (history: readonly HistoryEntry[]): boolean =>
  MESSAGE_TYPES.every((type) => history.some((entry) => entry.type === type));

/** The step's own change to the state. */
const applyStep = (state: OrderState, message: OrderMessage): OrderState => {
  switch (message.type) {
    case "OrderPlaced":
      return state; // the order's data came with the initial state
    case "PaymentCaptured":
      return {
        ...state,
        payment: {
          paymentId: message.paymentId,
          amount: message.amount,
          paidAt: message.capturedAt,
        },
      };
    case "ItemsReserved":
      return {
        ...state,
        reservation: { warehouse: message.warehouse, reservedAt: message.reservedAt },
        lines: state.lines.map((line) => ({ ...line, reservedAt: message.reservedAt })),
      };
    case "OrderShipped":
      return {
        ...state,
        shipment: {
          carrier: message.carrier,
          trackingNumber: message.trackingNumber,
          shippedAt: message.shippedAt,
        },
      };
  }
};

/**
 * Handles one message on a loaded state. Idempotent: a message already applied returns the
 * state unchanged. Calls Date methods on the loaded state (`placedAt`, the history's `at`),
 * so a store that returned a Date as a string would make it throw.
 */
export const handleOrderMessage = (
  message: OrderMessage,
  state: OrderState,
): OrderHandlerResult => {
  if (state.applied.includes(message.messageId)) {
    return { newState: state, isCompleted: state.metadata.isCompleted, duplicate: true };
  }
  const at = occurredAt(message);
  const stepped = applyStep(state, message);
  const history = [
    ...state.history,
    {
      type: message.type,
      messageId: message.messageId,
      at,
      sinceOrderMs: at.getTime() - state.placedAt.getTime(),
    },
  ];
  const lastEventAt = new Date(Math.max(...history.map((entry) => entry.at.getTime())));
  const complete = allStepsApplied(history);
  const newState: OrderState = {
    ...stepped,
    applied: [...state.applied, message.messageId],
    history,
    lastEventAt,
  };
  return {
    newState: { ...newState, status: statusOf(newState, complete) },
    isCompleted: complete,
    duplicate: false,
  };
};

/** The order saga as the message loop (message-loop.ts) drives it: the demo, the load test, the bench. */
export const orderSaga: LoopSagaDefinition<OrderState, OrderMessage> = {
  name: SAGA_NAME,
  messageId: (message) => message.messageId,
  correlationId: correlationIdOf,
  canStart,
  initialState: (message: OrderMessage, metadata: SagaStateMetadata) => {
    if (!canStart(message)) throw new Error(`${message.type} cannot start the saga`);
    return initialOrderState(message, metadata);
  },
  handle: handleOrderMessage,
};
