/**
 * The `saga-store-dynamodb` program: commander wiring, global options, and `run`, which
 * parses a command line, runs it and answers the exit code instead of exiting, so that
 * tests can run the tool in-process with captured output.
 */
import { Command, CommanderError, Option } from "commander";
import { addCleanupCommand } from "./commands/cleanup.js";
import { addMigrateCommand } from "./commands/migrate.js";
import { addShowCommand } from "./commands/show.js";
import { addTableCommands } from "./commands/table.js";
import { debugDetails, errorLine, exitCodeOf, ExitCode } from "./errors.js";
import { processIO, type CliIO } from "./io.js";
import { checkGlobalOptions, type GlobalOptions } from "./options.js";
import { redactUrls } from "./redact.js";
import { packageVersion } from "./version.js";

/** The name the tool is installed as (package.json `bin`). */
export const PROGRAM_NAME = "saga-store-dynamodb";

const EXAMPLES = `
Examples:
  $ ${PROGRAM_NAME} table ensure --ttl
  $ ${PROGRAM_NAME} --endpoint http://localhost:8000 table describe
  $ ${PROGRAM_NAME} show --saga OrderSaga --correlation order-42
  $ ${PROGRAM_NAME} cleanup --saga OrderSaga --older-than 30d
  $ ${PROGRAM_NAME} --table orders-sagas migrate --dry-run
  $ ${PROGRAM_NAME} --profile prod table describe --json

Exit codes: 0 done, 1 failed (AWS or store error, not found), 2 bad command line or no
region, 3 table not ready for the store (table describe).`;

/**
 * `io` whose stderr drops the user name and password of every URL: commander's messages
 * and stack traces may repeat an endpoint (or a mistyped argument) that carries them.
 */
const redactingIO = (io: CliIO): CliIO => ({
  ...io,
  stderr: (text) => io.stderr(redactUrls(text)),
});

/**
 * Builds the commander program. Output goes to `cliIO` (with credentials in URLs redacted on
 * stderr); commander's exits become thrown `CommanderError`s (see `run`).
 */
export const buildProgram = (cliIO: CliIO): Command => {
  const io = redactingIO(cliIO);
  const program = new Command(PROGRAM_NAME)
    .description(
      "Operate the DynamoDB table of @saga-bus/store-dynamodb: table, sagas, cleanup, migration.",
    )
    .version(packageVersion(), "-V, --version", "print the version")
    .helpOption("-h, --help", "print help")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      outputError: (text, write) => write(text),
    })
    .showHelpAfterError("(add --help for usage)")
    .configureHelp({ showGlobalOptions: true })
    .addOption(
      new Option("--table <name>", "table name").env("SAGA_TABLE").default("saga-instances"),
    )
    .addOption(new Option("--endpoint <url>", "DynamoDB endpoint, e.g. DynamoDB Local's"))
    // No default: the SDK finds the region as every AWS tool does (AWS_REGION, the profile).
    .addOption(
      new Option("--region <region>", "AWS region (default: $AWS_REGION, else the profile's)"),
    )
    .addOption(
      new Option("--profile <name>", "AWS profile of ~/.aws/config (default: $AWS_PROFILE)"),
    )
    .addOption(new Option("--correlation-index <name>", "correlation index name (default GSI1)"))
    .addOption(new Option("--cleanup-index <name>", "cleanup index name (default GSI2)"))
    .option("--debug", "print stack traces of failures")
    .addHelpText("after", EXAMPLES)
    .hook("preAction", (_program, action) => {
      checkGlobalOptions(action.optsWithGlobals<GlobalOptions>());
    });
  // Subcommands copy the exit override, the output and the help settings made above.
  addTableCommands(program, io);
  addShowCommand(program, io);
  addCleanupCommand(program, io);
  addMigrateCommand(program, io);
  return program;
};

/**
 * Runs the tool on `argv` (as in `process.argv`: node, script, then the arguments) and
 * answers its exit code (see `ExitCode`): 0 done, 1 failed, 2 bad command line. Failures
 * print one line `error: <message>` to `cliIO.stderr`, with stack traces only under `--debug`;
 * URLs on stderr lose their user name and password. Never calls `process.exit`.
 */
export const run = async (argv: readonly string[], cliIO: CliIO = processIO()): Promise<number> => {
  const io = redactingIO(cliIO);
  const program = buildProgram(cliIO);
  try {
    await program.parseAsync([...argv], { from: "node" });
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its message (or the help, or the version) already.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const options = program.opts<Partial<GlobalOptions>>();
    const context = {
      tableName: options.table,
      endpoint: options.endpoint,
      region: options.region,
    };
    io.stderr(`error: ${errorLine(error, context)}\n`);
    if (options.debug === true) io.stderr(`${debugDetails(error)}\n`);
    return exitCodeOf(error);
  }
};
