/** `migrate`: converts the sagas a 0.2.2 store wrote into today's layout, in place. */
import type { Command } from "commander";
import { performance } from "node:perf_hooks";
import { migrateTable, type MigrateProgress, type MigrateSummary } from "../../migrate.js";
import { connectedAction } from "../context.js";
import { CliError, ExitCode } from "../errors.js";
import { jsonText, type CliIO } from "../io.js";
import {
  bulkOptions,
  concurrencyOption,
  jsonOption,
  segmentsOption,
  type BulkFlags,
} from "../options.js";
import { progressReporter } from "../progress.js";

interface MigrateFlags extends BulkFlags {
  readonly dryRun?: boolean;
  readonly keepDateStrings?: boolean;
  readonly json?: boolean;
}

/** What `migrate --json` prints: the summary of `migrateTable`, the table and the run time. */
export interface MigrateReport extends MigrateSummary {
  readonly tableName: string;
  /** Wall-clock seconds of the run. */
  readonly seconds: number;
}

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The summary a run prints: totals, cost and speed, then each skipped saga and why. */
export const formatMigrateSummary = (
  summary: MigrateSummary,
  tableName: string,
  seconds: number,
): string => {
  const rate = seconds > 0 ? Math.round(summary.scanned / seconds) : summary.scanned;
  const cost =
    `${count(summary.requests, "request")}, ` +
    `${summary.readCapacityUnits} RCU, ${summary.writeCapacityUnits} WCU, ` +
    `${seconds.toFixed(1)} s` +
    (summary.scanned > 0 ? `, ${rate} items/s` : "");
  const found = `${count(summary.scanned, "0.2.2 item")} among ${count(summary.examined, "item")} read`;
  if (summary.scanned === 0) {
    return `table ${tableName} holds no 0.2.2 items: nothing to migrate (${count(summary.examined, "item")} read; ${cost})\n`;
  }
  const skipped = summary.skipped.length;
  const head = summary.dryRun
    ? `dry run of table ${tableName}, nothing written: would convert ${count(summary.converted, "saga")}, ` +
      `would delete the 0.2.2 items of ${summary.alreadyMigrated} already migrated, would skip ${skipped}`
    : `migrated table ${tableName}: ${count(summary.converted, "saga")} converted, ` +
      `${summary.alreadyMigrated} already migrated, ${skipped} skipped`;
  const lines = summary.skipped.map(
    (skip) =>
      `  ${JSON.stringify(skip.sagaName)} ${JSON.stringify(skip.sagaId)}: ${skip.reason}` +
      `${skip.blocking ? "" : " (blocks no saga name)"}\n`,
  );
  return (
    `${head} (${found}; ${cost})\n` +
    (skipped === 0
      ? ""
      : `${summary.dryRun ? "would skip" : "skipped"}, left as they are:\n${lines.join("")}`)
  );
};

/** Adds the `migrate` command to `program`. */
export const addMigrateCommand = (program: Command, io: CliIO): void => {
  program
    .command("migrate")
    .description(
      "convert the sagas a 0.2.2 store wrote into today's layout (safe to interrupt and re-run)",
    )
    .option("--dry-run", "write nothing; print what a run would do")
    .option(
      "--keep-date-strings",
      "keep ISO date strings in the application's fields as strings (default: they become Dates)",
    )
    .addOption(concurrencyOption("sagas migrated at once"))
    .addOption(segmentsOption())
    .addOption(jsonOption())
    .action(
      connectedAction<MigrateFlags>("migrate", async (options, { send, names }) => {
        // Sagas done (converted, found migrated, skipped) out of 0.2.2 items found so far.
        const bar = progressReporter(
          io.progressStream,
          `migrate ${options.table}`,
          "done of 0.2.2 items found",
          (progress: MigrateProgress) => ({
            done: progress.converted + progress.alreadyMigrated + progress.skipped,
            found: progress.scanned,
          }),
        );
        const started = performance.now();
        let summary: MigrateSummary;
        try {
          summary = await migrateTable({
            send,
            ...names,
            dryRun: options.dryRun === true,
            reviveDates: options.keepDateStrings !== true,
            ...bulkOptions(options),
            onProgress: (progress) => bar.update(progress),
          });
        } finally {
          bar.stop();
        }
        const seconds = (performance.now() - started) / 1000;
        io.stdout(
          options.json === true
            ? jsonText({
                tableName: options.table,
                ...summary,
                seconds: Math.round(seconds * 10) / 10,
              } satisfies MigrateReport)
            : formatMigrateSummary(summary, options.table, seconds),
        );
        // A deployment step (`migrate && deploy`) must not pass while sagas stay behind: every
        // lookup miss of their names fails with UnmigratedTableError until they are resolved.
        const blocking = summary.skipped.filter((skip) => skip.blocking).length;
        if (blocking > 0) {
          throw new CliError(
            `${count(blocking, "saga")} ${summary.dryRun ? "would be" : blocking === 1 ? "was" : "were"} skipped: ` +
              "their saga names stay blocked (UnmigratedTableError) until each is resolved and migrate runs again",
            ExitCode.notReady,
          );
        }
      }),
    );
};
