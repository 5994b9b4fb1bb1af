/**
 * Load on DynamoDB Local: 1,000 sagas × 5 messages at concurrency 32, with duplicated and
 * reordered messages, driven the way the saga-bus runtime drives a store (the demo's message
 * loop). Then every saga is checked twice: through the store (`verifySagas`: one completed
 * saga per order, its messages applied once, its Dates back as Dates), and on the table
 * itself (a strongly consistent scan: every saga has its correlation item and every
 * correlation item its saga, one saga per correlation id, each state exactly the messages it
 * received, its version the number of successful updates).
 *
 * Run with `npm run test:load` (about 25 s on two cores, DynamoDB Local's start included), not
 * with `npm test`.
 */
import { performance } from "node:perf_hooks";
import { createDynamoDBSagaStore, meterSend, sendVia } from "../../src";
import { runMessageLoop } from "../../scripts/demo/runtime";
import { SAGA_NAME, type OrderState, orderSaga } from "../../scripts/demo/saga";
import { verifySagas } from "../../scripts/demo/verify";
import { createLocalTable, type LocalTable } from "../support/local-table";
import { auditTable, scanTable, type Expectation } from "./consistency";
import { buildLoadWorkload, DELIVERIES_PER_SAGA, receivedMessageIds } from "./workload";

const SAGAS = 1000;
const CONCURRENCY = 32;
const SEED = 20_261_125;
/** Time limit of the test: it takes about 22 s on two cores; the margin is for slow CI machines. */
const TIMEOUT_MS = 300_000;

let table: LocalTable;

beforeAll(async () => {
  table = await createLocalTable();
});
afterAll(() => table?.drop());

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

it(
  `${SAGAS} sagas × ${DELIVERIES_PER_SAGA} messages at concurrency ${CONCURRENCY}, duplicated and reordered: ` +
    "each saga has exactly the updates it received, one saga per correlation id, no saga without its correlation item and no correlation item without its saga",
  async () => {
    const workload = buildLoadWorkload({ orders: SAGAS, seed: SEED });
    expect(workload.deliveries).toHaveLength(SAGAS * DELIVERIES_PER_SAGA);

    const meter = meterSend(sendVia(table.docClient));
    const store = createDynamoDBSagaStore<OrderState>({
      send: meter.send,
      tableName: table.tableName,
    });

    const loopStarted = performance.now();
    const stats = await runMessageLoop({
      store,
      definition: orderSaga,
      deliveries: workload.deliveries,
      concurrency: CONCURRENCY,
      // Generous limits: running out of retries under load is not what this test is about,
      // and a dead letter still fails it.
      retry: { maxAttempts: 20, maxRequeues: 20, maxDeadLetters: 25 },
    });
    const loopMs = performance.now() - loopStarted;
    const requests = meter.snapshot();

    const verifyStarted = performance.now();
    const verification = await verifySagas(store, workload, stats);
    const verifyMs = performance.now() - verifyStarted;

    const scanStarted = performance.now();
    const { items, pages } = await scanTable(table.docClient, table.tableName);
    const received = receivedMessageIds(workload.deliveries);
    const expected = new Map<string, Expectation>(
      [...received].map(([orderId, messageIds]) => [
        orderId,
        { messageIds, updates: stats.updates.get(orderId) },
      ]),
    );
    const audit = auditTable(items, SAGA_NAME, expected);
    const scanMs = performance.now() - scanStarted;

    console.log(
      [
        `Load: ${SAGAS} sagas, ${workload.deliveries.length} deliveries ` +
          `(${workload.duplicates} duplicates, ${workload.concurrentDuplicates} right after the original; ` +
          `${workload.outOfOrder} overtake an earlier step, ${workload.beforeStart} before their start), ` +
          `concurrency ${CONCURRENCY}, seed ${SEED}`,
        `  message loop   ${seconds(loopMs)} (${((workload.deliveries.length * 1000) / loopMs).toFixed(0)} deliveries/s, ` +
          `${((SAGAS * 1000) / loopMs).toFixed(1)} sagas/s); ${requests.requests} requests ` +
          `(${(requests.requests / SAGAS).toFixed(2)} per saga), ${requests.readCapacityUnits} RCU, ${requests.writeCapacityUnits} WCU`,
        `  races          ${stats.conflictsRetried} update conflicts retried, ${stats.duplicateStartsPrevented} duplicate starts prevented, ` +
          `${stats.requeuedBeforeStart} requeued before their start, ${stats.transientRetried} transient retries`,
        `  duplicates     ${stats.duplicatesIgnored} ignored by the handler, ${stats.ignoredCompleted} after completion; ` +
          `${stats.deadLettered.length} dead-lettered`,
        `  verification   ${seconds(verifyMs)} through the store (findAllByName): ${verification.correct} of ${SAGAS} correct`,
        `  table scan     ${seconds(scanMs)}: ${items.length} items in ${pages} pages, ` +
          `${audit.sagaItems} sagas, ${audit.correlationItems} correlation items, ${audit.problems.length} problems`,
      ].join("\n"),
    );

    expect(stats.deadLettered).toEqual([]);
    expect(stats.aborted).toBe(false);
    expect(stats.handled).toBe(workload.deliveries.length);
    expect(stats.sagasStarted).toBe(SAGAS);
    expect(stats.sagasCompleted).toBe(SAGAS);
    // Every message applied once; every duplicate recognised (by the handler, or because the
    // saga had completed).
    expect(stats.applied).toBe(SAGAS * 4);
    expect(stats.duplicatesIgnored + stats.ignoredCompleted).toBe(workload.duplicates);
    // The races this test is about did happen.
    expect(stats.conflictsRetried).toBeGreaterThan(0);
    expect(stats.duplicateStartsPrevented).toBeGreaterThan(0);

    expect(verification.problems.slice(0, 20)).toEqual([]);
    expect(verification.correct).toBe(SAGAS);
    expect(audit.problems.slice(0, 20)).toEqual([]);
    expect(audit.sagaItems).toBe(SAGAS);
    expect(audit.correlationItems).toBe(SAGAS);
    expect(items).toHaveLength(2 * SAGAS);
  },
  TIMEOUT_MS,
);
