/**
 * The table the store needs: its definition as data (`getTableSchema`), and creating and
 * deleting it. The definition uses CloudFormation's property names, which are also the
 * `CreateTable` API's, so one object serves both.
 */
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type CreateTableCommandInput,
  type DescribeTableCommandOutput,
} from "@aws-sdk/client-dynamodb";
import { DEFAULT_INDEX_NAMES } from "./store.js";
import { ConfigurationError } from "./errors.js";

/** Anything that sends control-plane commands: a `DynamoDBClient` or a document client. */
export interface TableClient {
  send(command: CreateTableCommand | DeleteTableCommand | DescribeTableCommand): Promise<unknown>;
}

/** Read and write capacity of a provisioned table (applied to its indexes too). */
export interface ProvisionedThroughput {
  readonly ReadCapacityUnits: number;
  readonly WriteCapacityUnits: number;
}

/** Options of `getTableSchema` and `createTable`. */
export interface TableSchemaOptions {
  /** Default `"GSI1"`. */
  readonly correlationIndexName?: string;
  /** Default `"GSI2"`. */
  readonly cleanupIndexName?: string;
  /** On-demand (default) or provisioned capacity. */
  readonly billingMode?: "PAY_PER_REQUEST" | "PROVISIONED";
  /** Required with `billingMode: "PROVISIONED"`. */
  readonly provisionedThroughput?: ProvisionedThroughput;
}

/** Options of `createTable`. */
export interface CreateTableOptions extends TableSchemaOptions {
  readonly tableName: string;
  /** How long to wait for the table to become ACTIVE. Default 300 s. */
  readonly maxWaitSeconds?: number;
}

/** The table definition (`CreateTable` input and CloudFormation `AWS::DynamoDB::Table` properties). */
export type TableSchema = CreateTableCommandInput & {
  readonly TableName: string;
  readonly BillingMode: "PAY_PER_REQUEST" | "PROVISIONED";
};

const attribute = (AttributeName: string) => ({ AttributeName, AttributeType: "S" as const });
const keySchema = (hash: string, range: string) => [
  { AttributeName: hash, KeyType: "HASH" as const },
  { AttributeName: range, KeyType: "RANGE" as const },
];

/**
 * The store's table: `PK`/`SK`, the correlation index (`GSI1PK`/`GSI1SK`, all attributes,
 * so the eventual lookup is one query) and the sparse cleanup index (`GSI2PK`/`GSI2SK`,
 * with just what cleanup reads).
 */
export const getTableSchema = (
  tableName: string,
  options: TableSchemaOptions = {},
): TableSchema => {
  const billingMode = options.billingMode ?? "PAY_PER_REQUEST";
  const throughput = options.provisionedThroughput;
  if (billingMode === "PROVISIONED" && throughput === undefined) {
    throw new ConfigurationError(
      "options.invalid",
      "billingMode PROVISIONED needs provisionedThroughput",
    );
  }
  const capacity =
    billingMode === "PROVISIONED" ? { ProvisionedThroughput: { ...throughput! } } : {};
  return {
    TableName: tableName,
    BillingMode: billingMode,
    ...capacity,
    KeySchema: keySchema("PK", "SK"),
    AttributeDefinitions: ["PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"].map(attribute),
    GlobalSecondaryIndexes: [
      {
        IndexName: options.correlationIndexName ?? DEFAULT_INDEX_NAMES.correlationIndexName,
        KeySchema: keySchema("GSI1PK", "GSI1SK"),
        Projection: { ProjectionType: "ALL" },
        ...capacity,
      },
      {
        IndexName: options.cleanupIndexName ?? DEFAULT_INDEX_NAMES.cleanupIndexName,
        KeySchema: keySchema("GSI2PK", "GSI2SK"),
        Projection: {
          ProjectionType: "INCLUDE",
          NonKeyAttributes: ["sagaId", "correlationId", "completedAt"],
        },
        ...capacity,
      },
    ],
  };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const describe = async (client: TableClient, tableName: string) =>
  (await client.send(
    new DescribeTableCommand({ TableName: tableName }),
  )) as DescribeTableCommandOutput;

const isNotFound = (error: unknown): boolean =>
  (error as { name?: unknown } | null)?.name === "ResourceNotFoundException";

/** Waits until the table and all its indexes are ACTIVE (or, with `gone`, until it no longer exists). */
export const waitForTable = async (
  client: TableClient,
  tableName: string,
  { maxWaitSeconds = 300, gone = false }: { maxWaitSeconds?: number; gone?: boolean } = {},
): Promise<void> => {
  const deadline = Date.now() + maxWaitSeconds * 1000;
  for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) {
    try {
      const { Table } = await describe(client, tableName);
      const active =
        Table?.TableStatus === "ACTIVE" &&
        (Table.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === "ACTIVE");
      if (active && !gone) return;
    } catch (error) {
      if (!isNotFound(error)) throw error;
      if (gone) return;
    }
    if (Date.now() > deadline) {
      throw new ConfigurationError(
        "table.invalid",
        `table ${tableName} did not become ${gone ? "deleted" : "ACTIVE"} within ${maxWaitSeconds}s`,
      );
    }
    await sleep(delay);
  }
};

/** Creates the store's table (on-demand billing unless told otherwise) and waits until it is ACTIVE. */
export const createTable = async (
  client: TableClient,
  options: CreateTableOptions,
): Promise<TableSchema> => {
  const schema = getTableSchema(options.tableName, options);
  await client.send(new CreateTableCommand(schema));
  await waitForTable(client, options.tableName, { maxWaitSeconds: options.maxWaitSeconds });
  return schema;
};

/** Deletes the table and waits until it is gone. A missing table is not an error. */
export const deleteTable = async (
  client: TableClient,
  tableName: string,
  maxWaitSeconds = 300,
): Promise<void> => {
  try {
    await client.send(new DeleteTableCommand({ TableName: tableName }));
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  await waitForTable(client, tableName, { maxWaitSeconds, gone: true });
};
