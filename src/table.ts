/**
 * The table the store needs: its definition as data (`getTableSchema`), and creating and
 * deleting it. The definition uses CloudFormation's property names, which are also the
 * `CreateTable` API's, so one object serves both.
 */
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DescribeTableCommandOutput,
  type DescribeTimeToLiveCommandOutput,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  type Projection,
  type TableDescription,
} from "@aws-sdk/client-dynamodb";
import { DEFAULT_INDEX_NAMES } from "./commands.js";
import { ConfigurationError } from "./errors.js";
import { isTableNotFound } from "./failures.js";

/** Anything that sends control-plane commands: a `DynamoDBClient` or a document client. */
export interface TableClient {
  send(
    command:
      | CreateTableCommand
      | DeleteTableCommand
      | DescribeTableCommand
      | UpdateTableCommand
      | DescribeTimeToLiveCommand
      | UpdateTimeToLiveCommand,
  ): Promise<unknown>;
}

/** The attribute DynamoDB's TTL reads (epoch seconds), written at completion when configured. */
export const TTL_ATTRIBUTE = "expiresAt";

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
  /**
   * Enable DynamoDB's TTL on `expiresAt`, so that completed sagas written by a store with
   * `completedSagaTtlSeconds` are deleted by DynamoDB, at no write cost. Default false.
   */
  readonly ttl?: boolean;
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
      if (!isTableNotFound(error)) throw error;
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

/** Turns on TTL on `expiresAt` unless it is already on; returns whether it changed anything. */
const enableTtl = async (client: TableClient, tableName: string): Promise<boolean> => {
  const { TimeToLiveDescription: ttl } = (await client.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  )) as DescribeTimeToLiveCommandOutput;
  const on = ttl?.TimeToLiveStatus === "ENABLED" || ttl?.TimeToLiveStatus === "ENABLING";
  if (on && ttl?.AttributeName === TTL_ATTRIBUTE) return false;
  if (on) {
    throw new ConfigurationError(
      "table.invalid",
      `table ${tableName} has TTL on attribute ${ttl?.AttributeName}, not ${TTL_ATTRIBUTE}`,
    );
  }
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    }),
  );
  return true;
};

/**
 * Creates the store's table (on-demand billing unless told otherwise), waits until it is
 * ACTIVE, and enables TTL when asked.
 */
export const createTable = async (
  client: TableClient,
  options: CreateTableOptions,
): Promise<TableSchema> => {
  const schema = getTableSchema(options.tableName, options);
  await client.send(new CreateTableCommand(schema));
  await waitForTable(client, options.tableName, { maxWaitSeconds: options.maxWaitSeconds });
  if (options.ttl) await enableTtl(client, options.tableName);
  return schema;
};

/** What `ensureTable` changed, in order. Empty when the table was already complete. */
export type TableChange =
  | { readonly kind: "createdTable"; readonly tableName: string }
  | { readonly kind: "createdIndex"; readonly indexName: string }
  | { readonly kind: "enabledTtl"; readonly attributeName: string };

const keyText = (keys: readonly KeySchemaElement[] | undefined): string =>
  (keys ?? []).map((k) => `${k.AttributeName} ${k.KeyType}`).join(", ");

/** Attributes `wanted` projects that `found` does not (`["all attributes"]` for ALL). */
const missingProjection = (
  found: Projection | undefined,
  wanted: Projection | undefined,
): string[] => {
  if (found?.ProjectionType === "ALL") return [];
  if (wanted?.ProjectionType === "ALL") return ["all attributes"];
  const have = new Set(found?.ProjectionType === "INCLUDE" ? found.NonKeyAttributes : []);
  return (wanted?.NonKeyAttributes ?? []).filter((name) => !have.has(name));
};

/** Why an existing table cannot serve the store, or `undefined` when it can. */
export const tableMismatch = (table: TableDescription, schema: TableSchema): string | undefined => {
  if (keyText(table.KeySchema) !== keyText(schema.KeySchema)) {
    return `its key schema is (${keyText(table.KeySchema)}), the store needs (${keyText(schema.KeySchema)})`;
  }
  const types = new Map(
    (table.AttributeDefinitions ?? []).map((a) => [a.AttributeName, a.AttributeType]),
  );
  for (const key of schema.KeySchema ?? []) {
    if (types.get(key.AttributeName) !== "S") {
      return `its key attribute ${key.AttributeName} must be a string (S)`;
    }
  }
  for (const wanted of schema.GlobalSecondaryIndexes ?? []) {
    const found = table.GlobalSecondaryIndexes?.find((i) => i.IndexName === wanted.IndexName);
    if (found === undefined) continue;
    if (keyText(found.KeySchema) !== keyText(wanted.KeySchema)) {
      return `its index ${wanted.IndexName} has keys (${keyText(found.KeySchema)}), the store needs (${keyText(wanted.KeySchema)})`;
    }
    const missing = missingProjection(found.Projection, wanted.Projection);
    if (missing.length > 0) {
      return `its index ${wanted.IndexName} does not project ${missing.join(", ")}`;
    }
  }
  return undefined;
};

/**
 * Makes sure the store's table exists and is complete: creates it when missing; on an
 * existing table, adds each missing index (one `UpdateTable` per index, as DynamoDB
 * requires) and enables TTL when asked, waiting until everything is ACTIVE. Refuses a table
 * whose keys cannot serve the store. Idempotent: safe at every start.
 */
export const ensureTable = async (
  client: TableClient,
  options: CreateTableOptions,
): Promise<TableChange[]> => {
  const { tableName } = options;
  const schema = getTableSchema(tableName, options);
  const wait = () => waitForTable(client, tableName, { maxWaitSeconds: options.maxWaitSeconds });
  const current = async (): Promise<TableDescription | undefined> => {
    try {
      return (await describe(client, tableName)).Table;
    } catch (error) {
      if (isTableNotFound(error)) return undefined;
      throw error;
    }
  };
  const changes: TableChange[] = [];
  let table = await current();
  if (table === undefined) {
    try {
      await createTable(client, { ...options, ttl: false });
      changes.push({ kind: "createdTable", tableName });
    } catch (error) {
      // Another process (a second instance starting) created it first: check theirs.
      if (!isInUse(error)) throw error;
      await wait();
      table = await current();
    }
  }
  if (table !== undefined) {
    const mismatch = tableMismatch(table, schema);
    if (mismatch !== undefined) {
      throw new ConfigurationError(
        "table.invalid",
        `table ${tableName} cannot serve the saga store: ${mismatch}`,
      );
    }
    await wait();
    for (const index of schema.GlobalSecondaryIndexes ?? []) {
      if (await addIndex(client, table, schema, index, wait, current)) {
        changes.push({ kind: "createdIndex", indexName: index.IndexName! });
      }
    }
  }
  if (options.ttl && (await enableTtl(client, tableName))) {
    changes.push({ kind: "enabledTtl", attributeName: TTL_ATTRIBUTE });
  }
  return changes;
};

const isInUse = (error: unknown): boolean =>
  (error as { name?: unknown } | null)?.name === "ResourceInUseException";

/**
 * Adds one missing index (DynamoDB takes one per `UpdateTable`) and waits until it is
 * ACTIVE; returns false if it was there already or another process added it meanwhile.
 */
const addIndex = async (
  client: TableClient,
  table: TableDescription,
  schema: TableSchema,
  index: GlobalSecondaryIndex,
  wait: () => Promise<void>,
  current: () => Promise<TableDescription | undefined>,
): Promise<boolean> => {
  const has = (t: TableDescription | undefined) =>
    t?.GlobalSecondaryIndexes?.some((i) => i.IndexName === index.IndexName) ?? false;
  if (has(table)) return false;
  // A provisioned table needs capacity for a new index too: give it the table's own.
  const provisioned =
    table.BillingModeSummary?.BillingMode === "PROVISIONED" ||
    (table.BillingModeSummary === undefined &&
      (table.ProvisionedThroughput?.ReadCapacityUnits ?? 0) > 0);
  const capacity =
    provisioned && index.ProvisionedThroughput === undefined
      ? {
          ProvisionedThroughput: {
            ReadCapacityUnits: table.ProvisionedThroughput?.ReadCapacityUnits ?? 1,
            WriteCapacityUnits: table.ProvisionedThroughput?.WriteCapacityUnits ?? 1,
          },
        }
      : {};
  const keyNames = new Set(index.KeySchema?.map((k) => k.AttributeName));
  try {
    await client.send(
      new UpdateTableCommand({
        TableName: table.TableName,
        AttributeDefinitions: schema.AttributeDefinitions?.filter((a) =>
          keyNames.has(a.AttributeName),
        ),
        GlobalSecondaryIndexUpdates: [{ Create: { ...index, ...capacity } }],
      }),
    );
  } catch (error) {
    // The table is busy, most likely with another process adding this same index.
    if (!isInUse(error)) throw error;
    await wait();
    if (has(await current())) return false;
    throw error;
  }
  await wait();
  return true;
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
    if (isTableNotFound(error)) return;
    throw error;
  }
  await waitForTable(client, tableName, { maxWaitSeconds, gone: true });
};
