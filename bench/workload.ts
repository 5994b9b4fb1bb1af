/**
 * Throughput of a saga workload on DynamoDB Local: each saga is started (`insert`, then
 * `update` to version 1, as saga-bus does on a start) and updated three times, the last of
 * its updates completing it. Messages are handled the way the saga-bus runtime handles them
 * (the demo's message loop, `workload/message-loop.ts`), with `concurrency` workers.
 *
 * The queue interleaves the sagas: each next message belongs to one of {@link WINDOW} sagas
 * in progress, picked at random, and a saga's own messages come in their order. So with
 * more than one worker, several messages of one saga can be in flight at once: an update
 * that loses the race gets a `ConcurrencyError` and is retried ("conflicts"), and a message
 * taken while its saga's start is still in flight finds no saga and is requeued. Both are
 * counted, and their requests are in the requests per saga.
 *
 * `runWorkloadBenchmark` runs the workload `runs` times (default 3), each on a fresh table,
 * and reports every run and the median with its range.
 *
 * @packageDocumentation
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { createDynamoDBSagaStore, type Consistency } from "../src";
import { onFreshTable } from "./local";
import { runMessageLoop } from "../workload/message-loop";
import {
  MESSAGE_TYPES,
  type OrderMessage,
  type OrderState,
  orderSaga,
} from "../workload/order-saga";
import { buildWorkload, seededRandom } from "../workload/deliveries";

/** Sagas in progress at any point of the queue. */
export const WINDOW = 64;

/** Options of {@link runWorkloadBenchmark}. */
export interface WorkloadBenchmarkOptions {
  /** Messages handled at the same time. */
  readonly concurrency: number;
  /** Sagas per run. */
  readonly sagas: number;
  /** Runs, each on a fresh table. Default 3. */
  readonly runs?: number;
  /** Default `"strong"`. */
  readonly consistency?: Consistency;
  /** Seed of the workload (the same in every run). */
  readonly seed?: number;
  /** Process id of the DynamoDB Local server, to measure its CPU time too (Linux only). */
  readonly serverPid?: number;
  /** Told after each run. */
  readonly onRun?: (run: WorkloadRun, index: number) => void;
}

/** One run's figures. */
export interface WorkloadRun {
  readonly seconds: number;
  readonly sagasPerSecond: number;
  readonly requests: number;
  readonly requestsPerSaga: number;
  readonly rcuPerSaga: number;
  readonly wcuPerSaga: number;
  /** `update` lost a race and the message was retried. */
  readonly conflictsRetried: number;
  /** `insert` lost a start race (none expected: no message is delivered twice). */
  readonly startRaces: number;
  /** Taken while its saga's start was still in flight: found no saga, requeued. */
  readonly requeuedBeforeStart: number;
  /** CPU time of this process during the run (message loop, store, SDK, HTTP). */
  readonly clientCpuSeconds: number;
  /** CPU time of the DynamoDB Local server during the run, when it could be read. */
  readonly serverCpuSeconds: number | undefined;
}

/** A median and the range it comes from. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Every run of one concurrency level, and their medians. */
export interface WorkloadFigures {
  readonly concurrency: number;
  readonly sagas: number;
  readonly consistency: Consistency;
  readonly messagesPerSaga: number;
  readonly runs: readonly WorkloadRun[];
  readonly sagasPerSecond: Spread;
  readonly requestsPerSaga: Spread;
  readonly conflictsRetried: Spread;
  readonly requeuedBeforeStart: Spread;
}

/**
 * The messages of `sagas` orders, each saga's in its own order, sagas interleaved: each next
 * message is the next one of a random saga among the {@link WINDOW} in progress.
 */
export const interleavedDeliveries = (sagas: number, seed: number): OrderMessage[] => {
  const random = seededRandom(seed);
  const pending = [...buildWorkload({ orders: sagas, seed }).plans.values()].map((plan) =>
    MESSAGE_TYPES.map((type): OrderMessage => plan.messages[type]),
  );
  const open: OrderMessage[][] = [];
  const deliveries: OrderMessage[] = [];
  let next = 0;
  while (next < pending.length || open.length > 0) {
    while (open.length < WINDOW && next < pending.length) open.push(pending[next++]!);
    const at = Math.floor(random() * open.length);
    const messages = open[at]!;
    deliveries.push(messages.shift()!);
    if (messages.length === 0) open.splice(at, 1);
  }
  return deliveries;
};

const CLOCK_TICKS = (() => {
  const probe = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const ticks = Number(probe.stdout?.trim());
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
})();

/** CPU seconds a process has used so far, from Linux's `/proc`; undefined elsewhere. */
const processCpuSeconds = (pid: number | undefined): number | undefined => {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "(comm) ": state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
};

const spreadOf = (values: readonly number[]): Spread => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median =
    sorted.length % 2 === 1
      ? sorted[Math.floor(middle)]!
      : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
};

/** One run on a fresh table. */
const runOnce = async (
  endpoint: string,
  tableName: string,
  deliveries: readonly OrderMessage[],
  {
    concurrency,
    sagas,
    consistency,
    serverPid,
  }: Required<Pick<WorkloadBenchmarkOptions, "concurrency" | "sagas" | "consistency">> &
    Pick<WorkloadBenchmarkOptions, "serverPid">,
): Promise<WorkloadRun> => {
  const httpAgent = { keepAlive: true, maxSockets: Math.max(50, 2 * concurrency) };
  return onFreshTable(
    endpoint,
    tableName,
    async (meter) => {
      const store = createDynamoDBSagaStore<OrderState>({
        send: meter.send,
        tableName,
        consistency,
      });
      const serverBefore = processCpuSeconds(serverPid);
      const clientBefore = process.cpuUsage();
      const started = performance.now();
      const stats = await runMessageLoop({
        store,
        definition: orderSaga,
        deliveries,
        concurrency,
        retry: { maxAttempts: 30, maxRequeues: 30, maxDeadLetters: 1 },
      });
      const seconds = (performance.now() - started) / 1000;
      const clientCpu = process.cpuUsage(clientBefore);
      const serverAfter = processCpuSeconds(serverPid);
      if (stats.deadLettered.length > 0 || stats.sagasCompleted !== sagas) {
        throw new Error(
          `workload at concurrency ${concurrency}: ${stats.sagasCompleted} of ${sagas} sagas completed; ` +
            `dead letters: ${JSON.stringify(stats.deadLettered)}`,
        );
      }
      const meterFigures = meter.snapshot();
      return {
        seconds,
        sagasPerSecond: sagas / seconds,
        requests: meterFigures.requests,
        requestsPerSaga: meterFigures.requests / sagas,
        rcuPerSaga: meterFigures.readCapacityUnits / sagas,
        wcuPerSaga: meterFigures.writeCapacityUnits / sagas,
        conflictsRetried: stats.conflictsRetried,
        startRaces: stats.duplicateStartsPrevented,
        requeuedBeforeStart: stats.requeuedBeforeStart,
        clientCpuSeconds: (clientCpu.user + clientCpu.system) / 1e6,
        serverCpuSeconds:
          serverBefore === undefined || serverAfter === undefined
            ? undefined
            : serverAfter - serverBefore,
      };
    },
    { httpAgent },
  );
};

/** The figures of one level from its runs: every run, and the medians with their ranges. */
export const summarizeRuns = (
  { concurrency, sagas, consistency = "strong" }: WorkloadBenchmarkOptions,
  runs: readonly WorkloadRun[],
): WorkloadFigures => ({
  concurrency,
  sagas,
  consistency,
  messagesPerSaga: MESSAGE_TYPES.length,
  runs,
  sagasPerSecond: spreadOf(runs.map((r) => r.sagasPerSecond)),
  requestsPerSaga: spreadOf(runs.map((r) => r.requestsPerSaga)),
  conflictsRetried: spreadOf(runs.map((r) => r.conflictsRetried)),
  requeuedBeforeStart: spreadOf(runs.map((r) => r.requeuedBeforeStart)),
});

let tablesCreated = 0;

/**
 * Runs the workload `runs` times (default 3) at one concurrency level on DynamoDB Local at
 * `endpoint`, each run on a fresh table, and summarizes the runs.
 */
export const runWorkloadBenchmark = async (
  endpoint: string,
  options: WorkloadBenchmarkOptions,
): Promise<WorkloadFigures> => {
  const {
    concurrency,
    sagas,
    runs = 3,
    consistency = "strong",
    seed = 4711,
    serverPid,
    onRun,
  } = options;
  const deliveries = interleavedDeliveries(sagas, seed);
  const results: WorkloadRun[] = [];
  for (let i = 0; i < runs; i++) {
    const tableName = `workload-bench-${process.pid}-${++tablesCreated}`;
    const run = await runOnce(endpoint, tableName, deliveries, {
      concurrency,
      sagas,
      consistency,
      serverPid,
    });
    results.push(run);
    onRun?.(run, i);
  }
  return summarizeRuns(options, results);
};
