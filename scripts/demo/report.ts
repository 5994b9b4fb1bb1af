/**
 * The summary the demo prints at the end: what ran, what happened to the sagas and the
 * messages, what DynamoDB was asked and charged, how long each phase took, and whether
 * everything checked out.
 *
 * @packageDocumentation
 */
import type { Meter } from "../../src/index.js";
import type { Workload } from "../../workload/deliveries.js";
import type { LoopStats } from "../../workload/message-loop.js";
import type { Cleanup, Verification } from "../../workload/verify.js";

/** Everything the summary reports. */
export interface SummaryInput {
  readonly database: string;
  readonly tableName: string;
  readonly tableFate: string;
  readonly orders: number;
  readonly concurrency: number;
  readonly seed: number;
  readonly workload: Workload;
  readonly stats: LoopStats;
  readonly workloadMeter: Meter;
  readonly workloadMs: number;
  readonly verification: Verification;
  readonly verificationMeter: Meter;
  readonly cleanup: Cleanup | undefined;
  readonly cleanupMeter: Meter | undefined;
  /** DynamoDB Local start (0 with `--endpoint`). */
  readonly startupMs: number;
  readonly tableMs: number;
  readonly totalMs: number;
  readonly problems: readonly string[];
}

/** Problems listed in full; the rest are counted. */
const MAX_PROBLEMS_SHOWN = 20;

const integer = (value: number): string => Math.round(value).toLocaleString("en-US");

/** Capacity units: halves are common (eventually consistent reads), so one decimal. */
const units = (value: number): string =>
  value.toLocaleString("en-US", { maximumFractionDigits: 1 });

const perSaga = (value: number, sagas: number): string =>
  sagas === 0 ? "-" : (value / sagas).toLocaleString("en-US", { maximumFractionDigits: 2 });

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** `Get 800 (800 RCU) · Update 1,000 (2,000 WCU) · …`: per command, most requests first. */
const byCommand = (meter: Meter): string =>
  Object.entries(meter.byCommand)
    .sort(([, a], [, b]) => b.requests - a.requests)
    .map(([name, entry]) => {
      const capacity = [
        ...(entry.rcu > 0 ? [`${units(entry.rcu)} RCU`] : []),
        ...(entry.wcu > 0 ? [`${units(entry.wcu)} WCU`] : []),
      ];
      const suffix = capacity.length > 0 ? ` (${capacity.join(", ")})` : "";
      return `${name.replace(/Command$/, "")} ${integer(entry.requests)}${suffix}`;
    })
    .join(" · ");

/**
 * WCU of the cleanup. DynamoDB Local answers `BatchExecuteStatement` (the cleanup's deletes)
 * without `ConsumedCapacity`, so deletes that cost nothing mean "not reported".
 */
const writeUnits = (meter: Meter, deleted: number): string =>
  meter.writeCapacityUnits === 0 && deleted > 0
    ? "WCU of BatchExecuteStatement not reported by this endpoint"
    : `${units(meter.writeCapacityUnits)} WCU`;

/** A label padded to a column, then the value. */
const row = (label: string, value: string): string => `  ${label.padEnd(28)}${value}`;

const plural = (count: number, one: string, many = `${one}s`) =>
  `${integer(count)} ${count === 1 ? one : many}`;

/** The summary as lines of text. */
export const formatSummary = (input: SummaryInput): string => {
  const { stats, workload, workloadMeter: meter, verification, cleanup } = input;
  const sagas = stats.sagasStarted;
  const distinct = workload.deliveries.length - workload.duplicates;
  const rate = input.workloadMs === 0 ? 0 : stats.handled / (input.workloadMs / 1000);
  const lines = [
    "",
    `Order-fulfilment saga demo: ${input.problems.length === 0 ? "PASSED" : "FAILED"}`,
    row("database", input.database),
    row("table", `${input.tableName} (${input.tableFate})`),
    row(
      "workload",
      `${plural(input.orders, "order")}, ${integer(workload.deliveries.length)} deliveries ` +
        `(${integer(distinct)} messages + ${integer(workload.duplicates)} duplicates, ` +
        `${integer(workload.concurrentDuplicates)} of them redelivered at once)`,
    ),
    row(
      "",
      `${integer(workload.outOfOrder)} overtake an earlier step, ` +
        `${integer(workload.beforeStart)} come before their OrderPlaced; ` +
        `concurrency ${input.concurrency}, seed ${input.seed}`,
    ),
    "Sagas",
    row("started", integer(stats.sagasStarted)),
    row(
      "completed",
      `${integer(stats.sagasCompleted)}   verified ${integer(verification.correct)} of ` +
        `${integer(input.orders)} correct; ${integer(verification.sagasFound)} sagas in the table`,
    ),
    "Messages",
    row(
      "handled",
      `${integer(stats.handled)} of ${integer(stats.deliveries)}   (${integer(stats.applied)} applied)`,
    ),
    row("conflicts retried", integer(stats.conflictsRetried)),
    row("duplicate starts prevented", integer(stats.duplicateStartsPrevented)),
    row(
      "duplicates ignored",
      `${integer(stats.duplicatesIgnored + stats.ignoredCompleted)}   ` +
        `(${integer(stats.duplicatesIgnored)} by the handler's applied ids, ` +
        `${integer(stats.ignoredCompleted)} because the saga had completed)`,
    ),
    row("requeued before start", integer(stats.requeuedBeforeStart)),
    ...(stats.transientRetried > 0
      ? [row("transient errors retried", integer(stats.transientRetried))]
      : []),
    row("dead-lettered", integer(stats.deadLettered.length)),
    "DynamoDB during the workload",
    row("requests", `${integer(meter.requests)}   ${perSaga(meter.requests, sagas)} per saga`),
    row(
      "read capacity",
      `${units(meter.readCapacityUnits)} RCU   ${perSaga(meter.readCapacityUnits, sagas)} per saga`,
    ),
    row(
      "write capacity",
      `${units(meter.writeCapacityUnits)} WCU   ${perSaga(meter.writeCapacityUnits, sagas)} per saga`,
    ),
    row("by command", byCommand(meter)),
    "Time",
    row("workload", `${seconds(input.workloadMs)}   (${integer(rate)} deliveries/s)`),
    row(
      "verification",
      `${seconds(verification.ms)}   (findAllByName: ${plural(input.verificationMeter.requests, "request")}, ` +
        `${units(input.verificationMeter.readCapacityUnits)} RCU)`,
    ),
    cleanup === undefined || input.cleanupMeter === undefined
      ? row("cleanup", "skipped")
      : row(
          "cleanup",
          `${seconds(cleanup.ms)}   deleteCompletedBefore deleted ${plural(cleanup.deleted, "saga")} ` +
            `in ${plural(cleanup.passes, "pass", "passes")}; ${plural(cleanup.itemsLeft, "item")} ` +
            `of the name left (${plural(input.cleanupMeter.requests, "request")}, ` +
            `${units(input.cleanupMeter.readCapacityUnits)} RCU, ` +
            writeUnits(input.cleanupMeter, cleanup.deleted) +
            ")",
        ),
    ...(input.startupMs > 0 ? [row("DynamoDB Local start", seconds(input.startupMs))] : []),
    row("table setup", seconds(input.tableMs)),
    row("total", seconds(input.totalMs)),
  ];
  if (input.problems.length > 0) {
    lines.push(`Problems (${integer(input.problems.length)})`);
    for (const problem of input.problems.slice(0, MAX_PROBLEMS_SHOWN)) lines.push(`  - ${problem}`);
    if (input.problems.length > MAX_PROBLEMS_SHOWN) {
      lines.push(`  … and ${integer(input.problems.length - MAX_PROBLEMS_SHOWN)} more`);
    }
  }
  return lines.join("\n") + "\n";
};

/** The one-line detail of the workload's progress display. */
export const workloadDetail = (stats: Readonly<LoopStats>): string =>
  `sagas ${stats.sagasStarted} started, ${stats.sagasCompleted} completed | ` +
  `${stats.conflictsRetried} conflicts, ${stats.duplicateStartsPrevented} dup starts, ` +
  `${stats.requeuedBeforeStart} requeued` +
  (stats.deadLettered.length > 0 ? `, ${stats.deadLettered.length} dead-lettered` : "");
