/**
 * The load test's deliveries: the demo's orders (four messages each, `buildWorkload`'s plans),
 * and for every order one of its four messages delivered a second time, so that each saga
 * receives exactly five deliveries. Half of those copies come right after the first one, so
 * that both are handled at the same time (two starts racing for `OrderPlaced`, two updates
 * racing for the others); the other half at a random later point. The whole queue is
 * shuffled first, so many messages overtake an earlier step or arrive before their saga
 * exists. Seeded: the same seed gives the same deliveries.
 *
 * @packageDocumentation
 */
import { MESSAGE_TYPES, type OrderMessage } from "../../workload/order-saga";
import {
  buildWorkload,
  measureDisorder,
  seededRandom,
  type Workload,
} from "../../workload/deliveries";

/** Share of the duplicates delivered right next to the original. */
export const CONCURRENT_DUPLICATE_SHARE = 0.5;

/** Deliveries per saga: its four messages and one duplicate. */
export const DELIVERIES_PER_SAGA = MESSAGE_TYPES.length + 1;

/** Message ids delivered for each correlation id (order id), each once. */
export const receivedMessageIds = (
  deliveries: readonly OrderMessage[],
): Map<string, Set<string>> => {
  const received = new Map<string, Set<string>>();
  for (const message of deliveries) {
    const ids = received.get(message.orderId) ?? new Set<string>();
    ids.add(message.messageId);
    received.set(message.orderId, ids);
  }
  return received;
};

/** `orders` orders, five shuffled deliveries each (one duplicate per order). */
export const buildLoadWorkload = ({ orders, seed }: { orders: number; seed: number }): Workload => {
  const { plans } = buildWorkload({ orders, seed });
  // A stream of its own, so that the plans stay those of `buildWorkload` for this seed.
  const random = seededRandom(seed ^ 0x5a6a_10ad);
  const deliveries = [...plans.values()].flatMap((plan) =>
    MESSAGE_TYPES.map((type): OrderMessage => plan.messages[type]),
  );
  for (let i = deliveries.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
  }
  let concurrentDuplicates = 0;
  for (const plan of plans.values()) {
    const type = MESSAGE_TYPES[Math.floor(random() * MESSAGE_TYPES.length)]!;
    const original = plan.messages[type];
    const at = deliveries.indexOf(original);
    if (random() < CONCURRENT_DUPLICATE_SHARE) {
      concurrentDuplicates++;
      deliveries.splice(at + 1, 0, original);
    } else {
      const later = at + 1 + Math.floor(random() * (deliveries.length - at));
      deliveries.splice(later, 0, original);
    }
  }
  return {
    plans,
    deliveries,
    duplicates: plans.size,
    concurrentDuplicates,
    ...measureDisorder(deliveries),
  };
};
