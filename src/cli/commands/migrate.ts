/** `migrate`: converts the sagas a 0.2.2 store wrote into today's layout, in place. */
import { Presets, SingleBar } from "cli-progress";
import { type Command, Option } from "commander";
import { performance } from "node:perf_hooks";
import { migrateTable, type MigrateProgress, type MigrateSummary } from "../../migrate.js";
import { withConnection } from "../context.js";
import { jsonText, type CliIO } from "../io.js";
import { jsonOption, positiveInteger, type GlobalOptions } from "../options.js";

interface MigrateFlags {
  readonly dryRun?: boolean;
  readonly keepDateStrings?: boolean;
  readonly concurrency?: number;
  readonly segments?: number;
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
    (skip) => `  ${JSON.stringify(skip.sagaName)} ${JSON.stringify(skip.sagaId)}: ${skip.reason}\n`,
  );
  return (
    `${head} (${found}; ${cost})\n` +
    (skipped === 0
      ? ""
      : `${summary.dryRun ? "would skip" : "skipped"}, left as they are:\n${lines.join("")}`)
  );
};

/** Receives the migration's progress: a bar on a terminal, nothing otherwise. */
interface MigrateBar {
  update(progress: MigrateProgress): void;
  stop(): void;
}

/** Sagas done (converted, found migrated, skipped) out of 0.2.2 items found so far. */
const migrateBar = (stream: NodeJS.WriteStream | undefined, label: string): MigrateBar => {
  if (stream === undefined || stream.isTTY !== true) {
    return { update: () => undefined, stop: () => undefined };
  }
  const bar = new SingleBar(
    {
      stream,
      format: `${label} [{bar}] {value}/{total} done of 0.2.2 items found | {duration_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      fps: 10,
    },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update: ({ scanned, converted, alreadyMigrated, skipped }) => {
      const done = converted + alreadyMigrated + skipped;
      if (!started) {
        bar.start(Math.max(scanned, 1), done);
        started = true;
        return;
      }
      bar.setTotal(Math.max(scanned, 1));
      bar.update(done);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
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
    .addOption(
      new Option("--concurrency <n>", "sagas migrated at once (default 16)").argParser(
        positiveInteger(1000),
      ),
    )
    .addOption(
      new Option("--segments <n>", "parallel scan segments (default 4)").argParser(
        positiveInteger(1000),
      ),
    )
    .addOption(jsonOption())
    .action(async (_flags: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & MigrateFlags>();
      await withConnection(
        options,
        async ({ send, names }) => {
          const bar = migrateBar(io.progressStream, `migrate ${options.table}`);
          const started = performance.now();
          let summary: MigrateSummary;
          try {
            summary = await migrateTable({
              send,
              ...names,
              dryRun: options.dryRun === true,
              reviveDates: options.keepDateStrings !== true,
              ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
              ...(options.segments === undefined ? {} : { segments: options.segments }),
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
        },
        "migrate",
      );
    });
};
