/**
 * Throttling on DynamoDB Local: the partition-heat model's buckets in front of the store
 * (`throttlingSend`), with a per-key limit far below what the saga-bus-like loop asks for.
 * Throttled requests never reach the table; the store turns each into a `TransientError`, the
 * loop redelivers the message with backoff (as saga-bus does), and every saga still completes
 * with each of its messages applied exactly once and no dead letter.
 *
 * The buckets run on a clock that advances 2 ms per request, so how much is throttled depends
 * on the number of requests, not on the machine's speed: at about 500 requests a virtual
 * second, the hottest key asks for several times its limit.
 */
import { createDynamoDBSagaStore, sendVia } from "../../src";
import { buildWorkload } from "../../workload/deliveries";
import { runMessageLoop } from "../../workload/message-loop";
import { orderSaga, type OrderState } from "../../workload/order-saga";
import { verifySagas } from "../../workload/verify";
import { createLocalTable, type LocalTable } from "../support/local-table";
import { steppingClock, throttlingSend } from "../support/throttling-send";

const SAGAS = 40;
const SEED = 20_261_201;

/**
 * Units per partition key and virtual second. The loop asks about 0.75 write units of
 * SAGA#<name> per request (12.6 per saga, about 16 requests per saga), some 375 a virtual
 * second: 150 leaves it a third short of its writes even if requeues doubled the requests.
 * The largest request (an insert, about 12 units) stays well below a second's limit, so a
 * throttled key recovers within a few dozen requests.
 */
const LIMITS = { read: 300, write: 150 };

describe("the saga-bus-like loop under per-key throttling", () => {
  let table: LocalTable;
  beforeAll(async () => {
    table = await createLocalTable();
  });
  afterAll(() => table?.drop());

  it("completes every saga, each message applied once, no dead letter, after throttling", async () => {
    const workload = buildWorkload({ orders: SAGAS, seed: SEED });
    const real = sendVia(table.docClient);
    const throttling = throttlingSend(real, { limits: LIMITS, clock: steppingClock(2) });
    const store = createDynamoDBSagaStore<OrderState>({
      send: throttling.send,
      tableName: table.tableName,
    });

    const stats = await runMessageLoop({
      store,
      definition: orderSaga,
      deliveries: workload.deliveries,
      concurrency: 16,
      // Throttling is what this test is about: retries are not the limit, a dead letter fails it.
      retry: { maxAttempts: 500, maxRequeues: 500, maxDeadLetters: 1 },
    });

    expect(throttling.counts.throttled).toBeGreaterThan(0);
    expect(stats.transientRetried).toBeGreaterThan(0);
    expect(stats.deadLettered).toEqual([]);
    expect(stats.sagasCompleted).toBe(SAGAS);

    // Read back without throttling: one saga per order, its messages applied once each, its
    // version the number of successful updates.
    const reader = createDynamoDBSagaStore<OrderState>({ send: real, tableName: table.tableName });
    const verification = await verifySagas(reader, workload, stats);
    expect(verification.problems).toEqual([]);
    expect(verification.sagasFound).toBe(SAGAS);
    expect(verification.correct).toBe(SAGAS);
  });
});
