/** `cleanup`: deletes the completed sagas of a name that completed longer ago than a duration. */
import { ScanCommand, type ScanCommandOutput } from "@aws-sdk/lib-dynamodb";
import { type Command, Option } from "commander";
import type { CleanupProgress } from "../../cleanup.js";
import { cleanupScanInput, type TableNames } from "../../commands.js";
import { assertKeyParts } from "../../keys.js";
import type { Send } from "../../request.js";
import { withConnection } from "../context.js";
import { jsonText, type CliIO } from "../io.js";
import {
  bulkOptions,
  concurrencyOption,
  jsonOption,
  parseDuration,
  segmentsOption,
  type BulkFlags,
  type GlobalOptions,
} from "../options.js";
import { progressReporter } from "../progress.js";

interface CleanupFlags extends BulkFlags {
  readonly saga: string;
  /** Milliseconds. */
  readonly olderThan: number;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

/** What `cleanup --json` prints. */
export interface CleanupReport {
  readonly sagaName: string;
  /** The cutoff, ISO 8601: sagas completed before it are deleted. */
  readonly completedBefore: string;
  readonly dryRun: boolean;
  /** Sagas this run deleted; absent in a dry run. */
  readonly deleted?: number;
  /** Sagas a run would delete now; only in a dry run. */
  readonly wouldDelete?: number;
}

/**
 * How many sagas a cleanup with this cutoff would delete now: the same scan of the cleanup
 * index, with the same filter (`completedAt` before the cutoff), that
 * `deleteCompletedBefore` runs, without the deletes.
 */
export const countCleanupCandidates = async (
  send: Send,
  names: TableNames,
  sagaName: string,
  before: Date,
): Promise<number> => {
  assertKeyParts({ sagaName }, { sagaName });
  let count = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = (await send(
      new ScanCommand(cleanupScanInput(names, sagaName, before, { index: 0, total: 1 }, startKey)),
    )) as ScanCommandOutput;
    count += page.Items?.length ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return count;
};

const plural = (n: number) => (n === 1 ? "saga" : "sagas");

/** Adds the `cleanup` command to `program`. */
export const addCleanupCommand = (program: Command, io: CliIO): void => {
  program
    .command("cleanup")
    .description("delete the completed sagas of a name that completed before a cutoff")
    .requiredOption("--saga <name>", "saga name")
    .addOption(
      new Option(
        "--older-than <duration>",
        "delete sagas completed longer ago than this: 30d, 12h, 90m, 45s",
      )
        .argParser(parseDuration)
        .makeOptionMandatory(),
    )
    .addOption(concurrencyOption("requests in flight at once"))
    .addOption(segmentsOption())
    .option("--dry-run", "count the sagas that would be deleted; delete nothing")
    .addOption(jsonOption())
    .action(async (_flags: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & CleanupFlags>();
      const before = new Date(Date.now() - options.olderThan);
      const what = `of ${options.saga} completed before ${before.toISOString()}`;
      const report = { sagaName: options.saga, completedBefore: before.toISOString() };
      await withConnection(
        options,
        async ({ send, store, names }) => {
          if (options.dryRun === true) {
            const count = await countCleanupCandidates(send, names, options.saga, before);
            io.stdout(
              options.json === true
                ? jsonText({ ...report, dryRun: true, wouldDelete: count } satisfies CleanupReport)
                : `would delete ${count} ${plural(count)} ${what} (dry run)\n`,
            );
            return;
          }
          const progress = progressReporter(
            io.progressStream,
            `cleanup ${options.saga}`,
            "deleted of candidates found",
            ({ deleted, scanned }: CleanupProgress) => ({ done: deleted, found: scanned }),
          );
          let deleted: number;
          try {
            deleted = await store.deleteCompletedBefore(options.saga, before, {
              ...bulkOptions(options),
              onProgress: (report) => progress.update(report),
            });
          } finally {
            progress.stop();
          }
          io.stdout(
            options.json === true
              ? jsonText({ ...report, dryRun: false, deleted } satisfies CleanupReport)
              : `deleted ${deleted} ${plural(deleted)} ${what}\n`,
          );
        },
        "cleanup",
      );
    });
};
