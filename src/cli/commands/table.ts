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
  type TableSchemaOptions,
} from "../../table.js";
import { isTableNotFound } from "../../failures.js";
import { withConnection } from "../context.js";
import { describeTable, reportText } from "../describe.js";
import { UsageError } from "../errors.js";
import type { CliIO } from "../io.js";
import { positiveInteger, parseProvisioned, type GlobalOptions } from "../options.js";

interface SchemaFlags {
  readonly provisioned?: ProvisionedThroughput;
}

interface CreateFlags extends SchemaFlags {
  readonly ttl?: boolean;
  readonly maxWait: number;
  readonly replaceIndexes?: boolean;
}

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
    .addOption(maxWaitOption())
    .action(async (_flags: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & CreateFlags>();
      await withConnection(options, async ({ client }) => {
        const schema = await createTable(client, createOptions(options, options));
        io.stdout(`created table ${schema.TableName} (${schema.BillingMode})\n`);
        if (options.ttl === true) io.stdout(`enabled TTL on ${TTL_ATTRIBUTE}\n`);
      });
    });

  table
    .command("ensure")
    .description("create the table if missing, add missing indexes, enable TTL if asked")
    .addOption(provisionedOption())
    .option("--ttl", `enable DynamoDB's TTL on ${TTL_ATTRIBUTE}`)
    .option(
      "--replace-indexes",
      "replace an index whose projection lacks what the store reads (it is rebuilt from the whole table; cleanup fails meanwhile)",
    )
    .addOption(maxWaitOption())
    .action(async (_flags: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & CreateFlags>();
      await withConnection(options, async ({ client }) => {
        const changes = await ensureTable(client, createOptions(options, options));
        for (const change of changes) io.stdout(`${changeText(change)}\n`);
        if (changes.length === 0) io.stdout(`table ${options.table} is complete\n`);
      });
    });

  table
    .command("describe")
    .description("print status, keys, indexes, item count and TTL of the table")
    .option("--json", "print JSON instead of text")
    .action(async (_flags: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { json?: boolean }>();
      await withConnection(options, async ({ client }) => {
        const report = await describeTable(
          client,
          getTableSchema(options.table, schemaOptions(options, {})),
        );
        io.stdout(
          options.json === true ? `${JSON.stringify(report, null, 2)}\n` : reportText(report),
        );
      });
    });

  table
    .command("delete")
    .description("delete the table and every saga in it (needs --yes)")
    .option("--yes", "confirm the deletion")
    .addOption(maxWaitOption())
    .action(async (_flags: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { yes?: boolean; maxWait: number }>();
      if (options.yes !== true) {
        throw new UsageError(
          `refusing to delete table ${options.table} and every saga in it without --yes`,
        );
      }
      await withConnection(options, async ({ client }) => {
        try {
          await client.send(new DescribeTableCommand({ TableName: options.table }));
        } catch (error) {
          if (!isTableNotFound(error)) throw error;
          io.stdout(`table ${options.table} does not exist; nothing to delete\n`);
          return;
        }
        await deleteTable(client, options.table, options.maxWait);
        io.stdout(`deleted table ${options.table}\n`);
      });
    });

  table
    .command("schema")
    .description(
      "print the table definition as JSON (CreateTable input, CloudFormation properties); no AWS call",
    )
    .addOption(provisionedOption())
    .action((_flags: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & SchemaFlags>();
      const schema = getTableSchema(options.table, schemaOptions(options, options));
      io.stdout(`${JSON.stringify(schema, null, 2)}\n`);
    });
};
