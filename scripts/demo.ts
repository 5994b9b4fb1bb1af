/**
 * `npm start`: the DynamoDB saga store under a saga-bus-like workload.
 *
 * Starts DynamoDB Local (or uses `--endpoint`), creates the table, runs an order-fulfilment
 * saga for `--orders` orders through the store with `--concurrency` concurrent workers
 * (duplicates, out-of-order delivery, start races, update races), verifies every saga,
 * deletes the completed sagas with `deleteCompletedBefore`, and prints a summary: sagas,
 * messages, retries, requests and capacity units per saga, timings. Exits 1 if any saga
 * ended wrong, 130/143 on SIGINT/SIGTERM; DynamoDB Local is stopped in every case.
 *
 * See docs/demo.md.
 *
 * @packageDocumentation
 */
import { createDynamoDBSagaStore, meterSend, sendVia, type Meter } from "../src/index.js";
import { buildWorkload } from "../workload/deliveries.js";
import { runMessageLoop, type LoopStats } from "../workload/message-loop.js";
import { SAGA_NAME, type OrderState, orderSaga } from "../workload/order-saga.js";
import { cleanUp, verifySagas, type Cleanup } from "../workload/verify.js";
import { parseOptions, type DemoOptions } from "./demo/cli.js";
import { openDatabase } from "./demo/database.js";
import { exitOnSignals, Teardown, type Interruption } from "./demo/lifecycle.js";
import { trackProgress, type ProgressTracker } from "./demo/progress.js";
import { formatSummary, workloadDetail } from "./demo/report.js";

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** What the phases of a run share with the process around them. */
interface RunContext {
  readonly teardown: Teardown;
  readonly interruption: Interruption;
  /** Tells which progress display is on screen, so that a signal can stop it. */
  readonly showing: (tracker: ProgressTracker | undefined) => void;
}

/** Runs the demo's phases; resolves to the exit code. */
const run = async (
  options: DemoOptions,
  { teardown, interruption, showing }: RunContext,
): Promise<number> => {
  const started = Date.now();

  if (options.keep && options.endpoint === undefined) {
    log(
      "Note: --keep applies to --endpoint only; DynamoDB Local runs in memory and stops with the demo.",
    );
  }
  const db = await openDatabase(
    {
      endpoint: options.endpoint,
      region: options.region,
      keep: options.keep,
      maxSockets: options.concurrency * 2,
      signal: interruption.signal,
    },
    teardown,
    log,
  );
  const { signal } = interruption;
  const meter = meterSend(sendVia(db.docClient));
  const store = createDynamoDBSagaStore<OrderState>({
    send: meter.send,
    tableName: db.tableName,
  });

  // The workload.
  const workload = buildWorkload({ orders: options.orders, seed: options.seed });
  log(
    `Handling ${workload.deliveries.length} deliveries for ${options.orders} orders ` +
      `with ${options.concurrency} workers (seed ${options.seed})…`,
  );
  let live: Readonly<LoopStats> | undefined;
  const workloadStarted = Date.now();
  let progress = trackProgress({
    label: "Workload",
    total: workload.deliveries.length,
    unit: "messages",
    read: () => ({ value: live?.handled ?? 0, detail: live ? workloadDetail(live) : "" }),
  });
  showing(progress);
  const stats = await runMessageLoop({
    store,
    definition: orderSaga,
    deliveries: workload.deliveries,
    concurrency: options.concurrency,
    onStart: (s) => (live = s),
    signal,
  });
  progress.stop();
  signal.throwIfAborted();
  const workloadMs = Date.now() - workloadStarted;
  const workloadMeter: Meter = meter.snapshot();
  meter.reset();

  // Verification: one saga per order, each exactly as planned.
  log("Verifying every saga (findAllByName)…");
  const verification = await verifySagas(store, workload, stats);
  signal.throwIfAborted();
  const verificationMeter = meter.snapshot();
  meter.reset();

  // Cleanup: everything completed counts as old.
  log("Cleaning up (deleteCompletedBefore)…");
  let deleted = 0;
  progress = trackProgress({
    label: "Cleanup",
    total: stats.sagasCompleted,
    unit: "sagas",
    read: () => ({ value: deleted, detail: SAGA_NAME }),
  });
  showing(progress);
  const cleanup: Cleanup = await cleanUp(store, db.docClient, db.tableName, (d) => (deleted = d));
  progress.stop();
  showing(undefined);
  signal.throwIfAborted();
  const cleanupMeter = meter.snapshot();

  const problems = [...verification.problems];
  if (stats.aborted) {
    problems.unshift(`the workload stopped after ${stats.deadLettered.length} dead letters`);
  }
  if (cleanup.deleted !== stats.sagasCompleted) {
    problems.push(
      `cleanup deleted ${cleanup.deleted} sagas, but ${stats.sagasCompleted} had completed`,
    );
  }
  if (cleanup.itemsLeft > 0) {
    problems.push(`${cleanup.itemsLeft} items of ${SAGA_NAME} are left in the table after cleanup`);
  }

  await teardown.run();
  process.stdout.write(
    formatSummary({
      database: db.description,
      tableName: db.tableName,
      tableFate: db.tableFate,
      orders: options.orders,
      concurrency: options.concurrency,
      seed: options.seed,
      workload,
      stats,
      workloadMeter,
      workloadMs,
      verification,
      verificationMeter,
      cleanup,
      cleanupMeter,
      startupMs: db.startupMs,
      tableMs: db.tableMs,
      totalMs: Date.now() - started,
      problems,
    }),
  );
  return problems.length === 0 ? 0 : 1;
};

const main = async (): Promise<void> => {
  const options = parseOptions(process.argv);
  const teardown = new Teardown(log);
  let progress: ProgressTracker | undefined;
  const interruption = exitOnSignals(teardown, () => progress?.stop());
  let code: number;
  try {
    code = await run(options, {
      teardown,
      interruption,
      showing: (tracker) => (progress = tracker),
    });
  } catch (error) {
    progress?.stop();
    // After Ctrl-C, failures are the interruption's doing: the signal handler reports it.
    code = interruption.exitCode ?? 1;
    if (interruption.exitCode === undefined) {
      log(`\nThe demo failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
    }
  }
  await teardown.run();
  process.exit(code);
};

void main();
