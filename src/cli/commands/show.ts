/** `show`: prints one saga's state as JSON. */
import { type Command, Option } from "commander";
import { withConnection } from "../context.js";
import { CliError, ExitCode, UsageError } from "../errors.js";
import { jsonText, type CliIO } from "../io.js";
import { jsonOption, type GlobalOptions } from "../options.js";

interface ShowFlags {
  readonly saga: string;
  readonly id?: string;
  readonly correlation?: string;
}

/** Adds the `show` command to `program`. */
export const addShowCommand = (program: Command, io: CliIO): void => {
  program
    .command("show")
    .description("print a saga's state as JSON (Dates as ISO strings)")
    .requiredOption("--saga <name>", "saga name")
    .addOption(new Option("--id <sagaId>", "the saga's id").conflicts("correlation"))
    .addOption(new Option("--correlation <correlationId>", "the saga's correlation id"))
    // It prints JSON anyway; taken so that scripts can pass --json to every command.
    .addOption(jsonOption("print JSON (as without it)"))
    .action(async (_flags: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & ShowFlags>();
      const { saga, id, correlation } = options;
      if (id === undefined && correlation === undefined) {
        throw new UsageError("show needs one of --id <sagaId> or --correlation <correlationId>");
      }
      await withConnection(
        options,
        async ({ store }) => {
          const state =
            id !== undefined
              ? await store.getById(saga, id)
              : await store.getByCorrelationId(saga, correlation ?? "");
          if (state === null) {
            const key =
              id === undefined
                ? `correlation id ${JSON.stringify(correlation)}`
                : `id ${JSON.stringify(id)}`;
            throw new CliError(
              `saga ${JSON.stringify(saga)} with ${key} not found in table ${options.table}`,
              ExitCode.failure,
            );
          }
          io.stdout(jsonText(state));
        },
        "show",
      );
    });
};
