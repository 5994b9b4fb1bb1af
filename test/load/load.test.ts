/**
 * Load on DynamoDB Local: 1,000 sagas × 5 messages at concurrency 32, with duplicated and
 * reordered messages, driven the way the saga-bus runtime drives a store (the demo's message
 * loop). Then every saga is checked twice: through the store (`verifySagas`: one completed
 * saga per order, its messages applied once, its Dates back as Dates), and on the table
 * itself (a strongly consistent scan: every saga has its correlation item and every
 * correlation item its saga, one saga per correlation id, each state exactly the messages it
 * received, its version the number of successful updates).
 *
 * Run with `npm run test:load` (about 25 s per variant on two cores), not with `npm test`.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { performance } from "node:perf_hooks";
import { createDynamoDBSagaStore, meterSend, sendVia, type Send } from "../../src";
import { runMessageLoop } from "../../workload/message-loop";
import { SAGA_NAME, type OrderState, orderSaga } from "../../workload/order-saga";
import { verifySagas } from "../../workload/verify";
import { shardedLayout } from "../../src/layout";
import { faultyClients, seededRandom, type FaultyHttpHandler } from "../support/faults";
import { createLocalTable, type LocalTable } from "../support/local-table";
import { auditTable, scanTable, type Expectation } from "./consistency";
import { buildLoadWorkload, DELIVERIES_PER_SAGA, receivedMessageIds } from "./workload";

const SAGAS = 1000;
const CONCURRENCY = 32;
const SEED = 20_261_125;
/** Time limit of the test: it takes about 22 s on two cores; the margin is for slow CI machines. */
const TIMEOUT_MS = 300_000;

/**
 * The faulty run: on first attempts, 2.5 % of requests are applied and their answer dropped
 * (the SDK retries the same request) and 2.5 % are throttled unapplied (the SDK retries);
 * 1 % of the store's requests fail before they are sent, so the store throws TransientError
 * and the loop redelivers the message, as saga-bus does.
 */
const FAULTS = { lostResponse: 0.025, throttle: 0.025, beforeSend: 0.01 } as const;

interface Variant {
  readonly label: string;
  /** The faults every run of this variant must have met (checked when it has a handler). */
  readonly expectFaults?: (
    counts: FaultyHttpHandler["counts"],
    stats: { readonly transientRetried: number },
  ) => void;
  /** Shards per saga name (the table's and the store's). Default 1. */
  readonly shards?: number;
  /** Builds the document client and `send` of the run. */
  readonly connect: (table: LocalTable) => {
    readonly docClient: DynamoDBDocumentClient;
    readonly send: (real: Send) => Send;
    readonly handler?: FaultyHttpHandler;
    readonly close: () => void;
  };
}

const throttledBeforeSend =
  (random: () => number) => (real: Send) => (command: Parameters<Send>[0]) =>
    random() < FAULTS.beforeSend
      ? Promise.reject(
          Object.assign(new Error("Rate of requests exceeds the allowed throughput (injected)"), {
            name: "ThrottlingException",
            $fault: "client",
            $metadata: { httpStatusCode: 400 },
          }),
        )
      : real(command);

const VARIANTS: Variant[] = [
  {
    label: "no faults",
    connect: (table) => ({ docClient: table.docClient, send: (real) => real, close: () => {} }),
  },
  {
    label: "about 5 % injected faults (lost responses, throttling)",
    connect: () => {
      const { handler, client, docClient } = faultyClients({
        lostResponse: FAULTS.lostResponse,
        throttle: FAULTS.throttle,
        random: seededRandom(SEED + 1),
      });
      return {
        docClient,
        handler,
        send: throttledBeforeSend(seededRandom(SEED + 2)),
        close: () => client.destroy(),
      };
    },
    expectFaults: (faults, stats) => {
      // The faults this run is about did happen, on the writes that matter.
      expect(faults.lostResponses.get("UpdateItem") ?? 0).toBeGreaterThan(0);
      expect(faults.lostResponses.get("TransactWriteItems") ?? 0).toBeGreaterThan(0);
      expect(total(faults.throttles)).toBeGreaterThan(0);
      expect(stats.transientRetried).toBeGreaterThan(0);
    },
  },
  {
    // The SDK gives up at once (as when its retries are used up): 5 % of updates are applied
    // and fail all the same. The store reads their write ids back; without that, saga-bus's
    // redelivery would meet its own message again (counted as an extra duplicate).
    label: "the SDK gives up on 5 % of updates after they were applied",
    connect: () => {
      const { handler, client, docClient } = faultyClients(
        {
          lostResponse: 0.05,
          throttle: 0,
          operations: ["UpdateItem"],
          random: seededRandom(SEED + 3),
        },
        { maxAttempts: 1 },
      );
      return { docClient, handler, send: (real) => real, close: () => client.destroy() };
    },
    expectFaults: (faults) => {
      expect(faults.lostResponses.get("UpdateItem") ?? 0).toBeGreaterThan(100);
    },
  },
  {
    label: "16 shards per saga name",
    shards: 16,
    connect: (table) => ({ docClient: table.docClient, send: (real) => real, close: () => {} }),
  },
];

const total = (counts: Map<string, number> | undefined) =>
  [...(counts ?? new Map<string, number>()).values()].reduce((a, b) => a + b, 0);

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe.each(VARIANTS)("$label", ({ connect, shards = 1, expectFaults }) => {
  let table: LocalTable;

  beforeAll(async () => {
    table = await createLocalTable({ shards });
  });
  afterAll(() => table?.drop());

  it(
    `${SAGAS} sagas × ${DELIVERIES_PER_SAGA} messages at concurrency ${CONCURRENCY}, duplicated and reordered: ` +
      "each saga has exactly the updates it received, one saga per correlation id, no saga without its correlation item and no correlation item without its saga",
    async () => {
      const workload = buildLoadWorkload({ orders: SAGAS, seed: SEED });
      expect(workload.deliveries).toHaveLength(SAGAS * DELIVERIES_PER_SAGA);

      const connection = connect(table);
      const meter = meterSend(connection.send(sendVia(connection.docClient)));
      const store = createDynamoDBSagaStore<OrderState>({
        send: meter.send,
        tableName: table.tableName,
        shards,
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
      const audit = auditTable(items, SAGA_NAME, expected, shardedLayout(shards));
      const scanMs = performance.now() - scanStarted;
      connection.close();
      const faults = connection.handler?.counts;

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
          ...(faults === undefined
            ? []
            : [
                `  faults         ${total(faults.lostResponses)} lost responses ` +
                  `(${JSON.stringify(Object.fromEntries(faults.lostResponses))}), ` +
                  `${total(faults.throttles)} throttled, of ${total(faults.requests)} HTTP requests`,
              ]),
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
      // Every saga and its correlation item (and, sharded, the table's layout marker).
      expect(items).toHaveLength(2 * SAGAS + (shards > 1 ? 1 : 0));
      if (faults !== undefined) expectFaults?.(faults, stats);
    },
    TIMEOUT_MS,
  );
});
