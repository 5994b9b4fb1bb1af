/**
 * The saga the Lambda example runs: an order that is placed, paid and shipped, the last two
 * in any order. Pure functions over plain data; the handler (handler.ts) does the I/O.
 *
 * @packageDocumentation
 */
import type { SagaState, SagaStateMetadata } from "@saga-bus/store-dynamodb";

/** The saga's name in the store. */
export const SAGA_NAME = "OrderSaga";

/** The messages of the saga, as the JSON bodies of SQS messages. */
export type OrderMessage =
  | { readonly type: "OrderPlaced"; readonly orderId: string; readonly total: number }
  | { readonly type: "PaymentCaptured"; readonly orderId: string }
  | { readonly type: "OrderShipped"; readonly orderId: string };

/** The saga's state: saga-bus's metadata and the order's fields. */
export interface OrderState extends SagaState {
  readonly orderId: string;
  readonly total: number;
  readonly paidAt: Date | null;
  readonly shippedAt: Date | null;
  /** Ids of the messages applied, so that a redelivered message changes nothing. */
  readonly applied: readonly string[];
}

const MESSAGE_TYPES: ReadonlySet<string> = new Set([
  "OrderPlaced",
  "PaymentCaptured",
  "OrderShipped",
]);

/** The message in an SQS body, or `undefined` when the body is not one of the saga's. */
export const parseMessage = (body: string): OrderMessage | undefined => {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { type, orderId, total } = value as Record<string, unknown>;
  if (typeof type !== "string" || !MESSAGE_TYPES.has(type)) return undefined;
  if (typeof orderId !== "string" || orderId === "") return undefined;
  if (type === "OrderPlaced" && typeof total !== "number") return undefined;
  return value as OrderMessage;
};

/** A message that may start a saga. */
export type StartMessage = Extract<OrderMessage, { type: "OrderPlaced" }>;

/** Only a placed order starts a saga; the others need the saga to exist. */
export const canStart = (message: OrderMessage): message is StartMessage =>
  message.type === "OrderPlaced";

/** The state a start message creates, before its handler runs (saga-bus inserts this). */
export const initialState = (message: StartMessage, metadata: SagaStateMetadata): OrderState => ({
  metadata,
  orderId: message.orderId,
  total: message.total,
  paidAt: null,
  shippedAt: null,
  applied: [],
});

/** The handler's result, as saga-bus's: the new state and whether the saga is done. */
export interface Handled {
  readonly newState: OrderState;
  readonly isCompleted: boolean;
}

/**
 * Applies one message (its id is the SQS message id, the same on every delivery). The
 * metadata is left to the caller, which bumps the version as the saga-bus runtime does.
 */
export const handleMessage = (
  messageId: string,
  message: OrderMessage,
  state: OrderState,
  now: Date,
): Handled => {
  const done = (newState: OrderState): Handled => ({
    newState,
    isCompleted: newState.paidAt !== null && newState.shippedAt !== null,
  });
  if (state.applied.includes(messageId)) return done(state);
  const applied = [...state.applied, messageId];
  switch (message.type) {
    case "OrderPlaced":
      return done({ ...state, applied });
    case "PaymentCaptured":
      return done({ ...state, paidAt: state.paidAt ?? now, applied });
    case "OrderShipped":
      return done({ ...state, shippedAt: state.shippedAt ?? now, applied });
  }
};
