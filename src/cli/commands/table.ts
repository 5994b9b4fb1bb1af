/** `table create | ensure | describe | delete | schema`: the store's table. */
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { type Command, Option } from "commander";
import {
  createTable,
  deleteTable,
  ensureTable,
  getTableSchema,
  TTL_ATTRIBUTE,
  type CreateTableOptions,
  type ProvisionedThroughput,
  type TableChange,
  type TableSchema,
  type TableSchemaOptions,
} from "../../table.js";
import { isTableNotFound } from "../../failures.js";
import { connectedAction, withConnection } from "../context.js";
import { describeTable, reportText } from "../describe.js";
import { CliError, ExitCode, UsageError } from "../errors.js";
import { jsonText, type CliIO } from "../io.js";
import { jsonOption, positiveInteger, parseProvisioned, type GlobalOptions } from "../options.js";

interface SchemaFlags {
  readonly provisioned?: ProvisionedThroughput;
}

/** `--json`, which every subcommand takes. */
interface JsonFlag {
  readonly json?: boolean;
}

interface CreateFlags extends SchemaFlags {
  readonly ttl?: boolean;
  readonly maxWait: number;
  readonly replaceIndexes?: boolean;
  readonly shards: number;
}

const shardsOption = () =>
  new Option("--shards <n>", "shards per saga name of the stores using the table (docs/scale.md)")
    .argParser(positiveInteger(100))
    .default(1);

const provisionedOption = () =>
  new Option(
    "--provisioned <rcu>,<wcu>",
    "provisioned capacity (table and each index) instead of on-demand billing",
  ).argParser(parseProvisioned);

const maxWaitOption = () =>
  new Option("--max-wait <seconds>", "how long to wait for the table")
    .argParser(positiveInteger(86_400))
    .default(300);

/** The schema options of the global options and the command's flags. */
const schemaOptions = (globals: GlobalOptions, flags: SchemaFlags): TableSchemaOptions => ({
  ...(globals.correlationIndex === undefined
    ? {}
    : { correlationIndexName: globals.correlationIndex }),
  ...(globals.cleanupIndex === undefined ? {} : { cleanupIndexName: globals.cleanupIndex }),
  ...(flags.provisioned === undefined
    ? {}
    : { billingMode: "PROVISIONED", provisionedThroughput: flags.provisioned }),
});

const createOptions = (globals: GlobalOptions, flags: CreateFlags): CreateTableOptions => ({
  tableName: globals.table,
  ...schemaOptions(globals, flags),
  ttl: flags.ttl === true,
  maxWaitSeconds: flags.maxWait,
  replaceIndexes: flags.replaceIndexes === true,
  shards: flags.shards,
});

/**
 * What `table schema --ttl` prints: the schema with CloudFormation's
 * `TimeToLiveSpecification` on `expiresAt`. `CreateTable` has no such parameter (`createTable`
 * enables TTL with a second request), so `getTableSchema` leaves it out.
 */
export const schemaWithTtl = (
  schema: TableSchema,
): TableSchema & {
  readonly TimeToLiveSpecification: { readonly AttributeName: string; readonly Enabled: true };
} => ({
  ...schema,
  TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
});

/** The line `table ensure` prints for one change. */
export const changeText = (change: TableChange): string => {
  switch (change.kind) {
    case "createdTable":
      return `created table ${change.tableName}`;
    case "createdIndex":
      return `created index ${change.indexName}`;
    case "deletedIndex":
      return `deleted index ${change.indexName} (${change.reason}); it is created again below`;
    case "enabledTtl":
      return `enabled TTL on ${change.attributeName}`;
    case "recordedLayout":
      return `recorded the layout: ${change.shards} shards per saga name`;
  }
};

/** Adds the `table` command and its subcommands to `program`. */
export const addTableCommands = (program: Command, io: CliIO): void => {
  const table = program
    .command("table")
    .description("create, complete, inspect or delete the store's table");

  table
    .command("create")
    .description("create the table (waits until it is ACTIVE)")
    .addOption(provisionedOption())
    .option("--ttl", `enable DynamoDB's TTL on ${TTL_ATTRIBUTE} (deletes expired completed sagas)`)
    .addOption(shardsOption())
    .addOption(maxWaitOption())
    .addOption(jsonOption())
    .action(
      connectedAction<CreateFlags & JsonFlag>("table create", async (options, { client }) => {
        const schema = await createTable(client, createOptions(options, options));
        // The same changes `table ensure` reports, so that scripts read both alike.
        const changes: TableChange[] = [
          { kind: "createdTable", tableName: schema.TableName },
          ...(options.ttl === true
            ? [{ kind: "enabledTtl", attributeName: TTL_ATTRIBUTE } as const]
            : []),
        ];
        if (options.json === true) {
          io.stdout(
            jsonText({ tableName: schema.TableName, billingMode: schema.BillingMode, changes }),
          );
          return;
        }
        io.stdout(`created table ${schema.TableName} (${schema.BillingMode})\n`);
        if (options.ttl === true) io.stdout(`enabled TTL on ${TTL_ATTRIBUTE}\n`);
      }),
    );

  table
    .command("ensure")
    .description("create the table if missing, add missing indexes, enable TTL if asked")
    .addOption(provisionedOption())
    .option("--ttl", `enable DynamoDB's TTL on ${TTL_ATTRIBUTE}`)
    .option(
      "--replace-indexes",
      "replace an index whose projection lacks what the store reads (it is rebuilt from the whole table; cleanup fails meanwhile)",
    )
    .addOption(shardsOption())
    .addOption(maxWaitOption())
    .addOption(jsonOption())
    .action(
      connectedAction<CreateFlags & JsonFlag>("table ensure", async (options, { client }) => {
        const changes = await ensureTable(client, createOptions(options, options));
        if (options.json === true) {
          io.stdout(jsonText({ tableName: options.table, changes }));
          return;
        }
        for (const change of changes) io.stdout(`${changeText(change)}\n`);
        if (changes.length === 0) io.stdout(`table ${options.table} is complete\n`);
      }),
    );

  table
    .command("describe")
    .description(
      `print status, keys, indexes, item count and TTL of the table; exit code ${ExitCode.notReady} when the store cannot use it`,
    )
    .addOption(shardsOption())
    .addOption(jsonOption())
    .action(
      connectedAction<JsonFlag & { readonly shards: number }>(
        "table describe",
        async (options, { client, region }) => {
          const report = await describeTable(
            client,
            getTableSchema(options.table, schemaOptions(options, {})),
            region,
            options.shards,
          );
          io.stdout(options.json === true ? jsonText(report) : reportText(report));
          // A deployment check (`table describe && deploy`) must not pass on an unusable table.
          if (!report.store.ready) {
            throw new CliError(
              `table ${report.tableName} is not ready for the store: ${report.store.problems.join("; ")}`,
              ExitCode.notReady,
            );
          }
        },
      ),
    );

  table
    .command("delete")
    .description("delete the table and every saga in it (needs --yes)")
    .option("--yes", "confirm the deletion")
    .addOption(maxWaitOption())
    .addOption(jsonOption())
    .action(async (_flags: unknown, command: Command) => {
      const options = command.optsWithGlobals<
        GlobalOptions & JsonFlag & { yes?: boolean; maxWait: number }
      >();
      if (options.yes !== true) {
        throw new UsageError(
          `refusing to delete table ${options.table} and every saga in it without --yes`,
        );
      }
      await withConnection(
        options,
        async ({ client }) => {
          try {
            await client.send(new DescribeTableCommand({ TableName: options.table }));
          } catch (error) {
            if (!isTableNotFound(error)) throw error;
            io.stdout(
              options.json === true
                ? jsonText({ tableName: options.table, deleted: false })
                : `table ${options.table} does not exist; nothing to delete\n`,
            );
            return;
          }
          await deleteTable(client, options.table, options.maxWait);
          io.stdout(
            options.json === true
              ? jsonText({ tableName: options.table, deleted: true })
              : `deleted table ${options.table}\n`,
          );
        },
        "table delete",
      );
    });

  table
    .command("schema")
    .description(
      "print the table definition as JSON (CreateTable input, CloudFormation properties); no AWS call",
    )
    .addOption(provisionedOption())
    .option(
      "--ttl",
      `add CloudFormation's TimeToLiveSpecification on ${TTL_ATTRIBUTE} (then no CreateTable input)`,
    )
    // It prints JSON anyway; taken so that scripts can pass --json to every command.
    .addOption(jsonOption("print JSON (as without it)"))
    .action((_flags: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & SchemaFlags & { ttl?: boolean }>();
      const schema = getTableSchema(options.table, schemaOptions(options, options));
      io.stdout(jsonText(options.ttl === true ? schemaWithTtl(schema) : schema));
    });
};
