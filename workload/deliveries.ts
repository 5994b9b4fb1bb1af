/**
 * The order saga's deliveries (for the demo, the bench and the tests): four messages per order,
 * some delivered twice, all in a shuffled order, from a seeded random source so that a run can
 * be repeated (the demo's `--seed`).
 *
 * @packageDocumentation
 */
import {
  MESSAGE_TYPES,
  orderAmount,
  type OrderLine,
  type OrderMessage,
  type OrderMessageOf,
  type OrderMessageType,
  type OrderPlaced,
} from "./order-saga.js";

/** A uniform random number in [0, 1). */
export type Random = () => number;

/** A small, fast, seeded PRNG (mulberry32): the same seed gives the same workload. */
export const seededRandom = (seed: number): Random => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const pick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)]!;

const between = (random: Random, min: number, max: number): number =>
  min + Math.floor(random() * (max - min + 1));

/** Fisher-Yates, in place. */
const shuffle = <T>(random: Random, items: T[]): T[] => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
};

/** Share of orders that get one message delivered twice. */
export const DUPLICATE_SHARE = 0.3;

/**
 * Of those duplicates, the share delivered right next to the original: a redelivery while
 * the first copy is still being handled, so the two race (for `OrderPlaced`: two starts).
 * The others are redelivered at a random later point.
 */
export const CONCURRENT_DUPLICATE_SHARE = 0.5;

/** The four messages of one order, as it should end up. */
export interface OrderPlan {
  readonly orderId: string;
  readonly messages: { readonly [K in OrderMessageType]: OrderMessageOf<K> };
}

/** What the demo delivers. */
export interface Workload {
  readonly plans: ReadonlyMap<string, OrderPlan>;
  /** Every delivery, in delivery order (duplicates included). */
  readonly deliveries: readonly OrderMessage[];
  /** Deliveries that repeat a message id. */
  readonly duplicates: number;
  /** Of which delivered right next to the original. */
  readonly concurrentDuplicates: number;
  /** Deliveries that come before a message of an earlier step of their order. */
  readonly outOfOrder: number;
  /** Non-start messages delivered before their order's `OrderPlaced`. */
  readonly beforeStart: number;
}

const CITIES = [
  ["Zürich", "CH"],
  ["Lyon", "FR"],
  ["Porto", "PT"],
  ["Gdańsk", "PL"],
  ["Leeds", "GB"],
  ["Graz", "AT"],
] as const;
const NAMES = ["Ada", "Grace", "Linus", "Barbara", "Edsger", "Margaret", "Ken", "Frances"];
const SKUS = ["BOOK-1", "MUG-2", "LAMP-3", "DESK-4", "PEN-5", "BAG-6", "CABLE-7"];
const WAREHOUSES = ["north", "south", "east"];
const CARRIERS = ["PostNL", "DHL", "UPS", "La Poste"];

/** The four messages of one order, with their times a few minutes apart. */
const planOrder = (random: Random, index: number, epoch: number): OrderPlan => {
  const orderId = `order-${String(index + 1).padStart(5, "0")}`;
  const id = (type: OrderMessageType) => `${orderId}/${type}`;
  const [city, country] = pick(random, CITIES);
  const lines: OrderLine[] = Array.from({ length: between(random, 1, 3) }, (_, i) => ({
    sku: SKUS[(index + i) % SKUS.length]!,
    qty: between(random, 1, 4),
    unitPrice: between(random, 199, 9999),
  }));
  const placedAt = new Date(epoch + index * 60_000 + between(random, 0, 59_999));
  const later = (from: Date) => new Date(from.getTime() + between(random, 1_000, 3_600_000));
  const capturedAt = later(placedAt);
  const reservedAt = later(placedAt);
  const shippedAt = later(new Date(Math.max(capturedAt.getTime(), reservedAt.getTime())));
  const placed: OrderPlaced = {
    type: "OrderPlaced",
    orderId,
    messageId: id("OrderPlaced"),
    customer: {
      id: `cust-${between(random, 1000, 9999)}`,
      name: pick(random, NAMES),
      address: { city, country },
    },
    lines,
    currency: "EUR",
    placedAt,
  };
  return {
    orderId,
    messages: {
      OrderPlaced: placed,
      PaymentCaptured: {
        type: "PaymentCaptured",
        orderId,
        messageId: id("PaymentCaptured"),
        paymentId: `pay-${Math.floor(random() * 1e9).toString(36)}`,
        amount: orderAmount(lines),
        capturedAt,
      },
      ItemsReserved: {
        type: "ItemsReserved",
        orderId,
        messageId: id("ItemsReserved"),
        warehouse: pick(random, WAREHOUSES),
        reservedAt,
      },
      OrderShipped: {
        type: "OrderShipped",
        orderId,
        messageId: id("OrderShipped"),
        carrier: pick(random, CARRIERS),
        trackingNumber: `TRK${Math.floor(random() * 1e12)}`,
        shippedAt,
      },
    },
  };
};

const stepOf = (type: OrderMessageType): number => MESSAGE_TYPES.indexOf(type);

/** Counts deliveries that overtake an earlier step of their order, and those before the start. */
export const measureDisorder = (deliveries: readonly OrderMessage[]) => {
  const latestStep = new Map<string, number>();
  const started = new Set<string>();
  let outOfOrder = 0;
  let beforeStart = 0;
  for (const message of deliveries) {
    const step = stepOf(message.type);
    const latest = latestStep.get(message.orderId) ?? -1;
    if (step < latest) outOfOrder++;
    latestStep.set(message.orderId, Math.max(step, latest));
    if (message.type === "OrderPlaced") started.add(message.orderId);
    else if (!started.has(message.orderId)) beforeStart++;
  }
  return { outOfOrder, beforeStart };
};

/**
 * Builds the deliveries for `orders` orders: every message once in a shuffled order, then
 * for {@link DUPLICATE_SHARE} of the orders one message a second time, either right after
 * the first copy or at a random later position.
 */
export const buildWorkload = ({ orders, seed }: { orders: number; seed: number }): Workload => {
  const random = seededRandom(seed);
  const epoch = Date.UTC(2026, 0, 5, 8, 0, 0);
  const plans = new Map<string, OrderPlan>();
  for (let i = 0; i < orders; i++) {
    const plan = planOrder(random, i, epoch);
    plans.set(plan.orderId, plan);
  }
  const deliveries = shuffle(
    random,
    [...plans.values()].flatMap((plan) => MESSAGE_TYPES.map((type) => plan.messages[type])),
  );
  let duplicates = 0;
  let concurrentDuplicates = 0;
  for (const plan of plans.values()) {
    if (random() >= DUPLICATE_SHARE) continue;
    const original = plan.messages[pick(random, MESSAGE_TYPES)];
    const at = deliveries.indexOf(original);
    duplicates++;
    if (random() < CONCURRENT_DUPLICATE_SHARE) {
      concurrentDuplicates++;
      deliveries.splice(at + 1, 0, original);
    } else {
      deliveries.splice(between(random, at + 1, deliveries.length), 0, original);
    }
  }
  return { plans, deliveries, duplicates, concurrentDuplicates, ...measureDisorder(deliveries) };
};
