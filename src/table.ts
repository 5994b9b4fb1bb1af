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
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type GetItemCommandOutput,
  type ScanCommandOutput,
  type DescribeTableCommandOutput,
  type DescribeTimeToLiveCommandOutput,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  type Projection,
  type TableDescription,
  type TimeToLiveDescription,
} from "@aws-sdk/client-dynamodb";
import { isDeepStrictEqual } from "node:util";
import { layoutFor } from "./options.js";
import { REAL_TIMING, type Timing } from "./timing.js";
import { DEFAULT_LAYOUT, keyAttributes, LAYOUT_MARKER_KEY, type IndexLayout } from "./layout.js";
import { DEFAULT_INDEX_NAMES, DYNAMODB_NAME, layoutOf } from "./commands.js";
import type { EnsureStep } from "./ensure-gate.js";
import { ConfigurationError, layoutMismatch } from "./errors.js";
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
      | UpdateTimeToLiveCommand
      | GetItemCommand
      | PutItemCommand
      | ScanCommand,
  ): Promise<unknown>;
}

/** The attribute DynamoDB's TTL reads (epoch seconds), written at completion when configured. */
export const TTL_ATTRIBUTE = DEFAULT_LAYOUT.ttlAttribute;

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
  /**
   * Shards per saga name of the stores that will use the table (default 1). With more than
   * one, the table records the count in a marker item, and stores with another count refuse
   * it. The schema itself is the same.
   */
  readonly shards?: number;
  /** How long to wait for the table to become ACTIVE. Default 300 s. */
  readonly maxWaitSeconds?: number;
  /**
   * `ensureTable` only: replace an index whose keys fit but whose projection is not the
   * store's: one lacking what the store reads (0.2.2's KEYS_ONLY cleanup index), or one
   * holding more (0.3.0's ALL correlation index, which every update pays for). DynamoDB cannot
   * change a projection in place: the index is deleted, then built anew from every item of the
   * table (a backfill that reads the table and writes each entry once). While it is missing,
   * what needs it fails (cleanup for the cleanup index). Default false: a table lacking a
   * projection is refused; one projecting more is served as it is.
   */
  readonly replaceIndexes?: boolean;
  /** Waits while the table or an index is being created (tests). Default: real time. */
  readonly timing?: Timing;
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

/** A value as an error message shows it: strings quoted, anything else as `String` has it. */
const shown = (value: unknown): string =>
  typeof value === "string" ? JSON.stringify(value) : String(value);

/** Why `value` is not a DynamoDB table or index name, or `undefined` when it is one. */
const nameProblem = (option: string, value: unknown): string | undefined =>
  typeof value === "string" && DYNAMODB_NAME.test(value)
    ? undefined
    : `${option} must be a DynamoDB name (3-255 of A-Z a-z 0-9 _ . -), got ${shown(value)}`;

/** Why DynamoDB would refuse these capacity units, or `undefined` when it would not. */
const capacityProblem = (throughput: ProvisionedThroughput | null): string | undefined => {
  for (const key of ["ReadCapacityUnits", "WriteCapacityUnits"] as const) {
    const units: unknown = throughput?.[key];
    if (!Number.isSafeInteger(units) || (units as number) < 1) {
      return `provisionedThroughput.${key} must be a whole number from 1, got ${shown(units)}`;
    }
  }
  return undefined;
};

/**
 * What DynamoDB would refuse in the table options, found before any request is sent so that
 * it is a `ConfigurationError` rather than a raw AWS error; `undefined` when nothing is.
 */
const schemaOptionsProblem = (
  tableName: unknown,
  options: TableSchemaOptions,
  indexNames: { readonly correlation: string; readonly cleanup: string },
): string | undefined => {
  const billingMode: unknown = options.billingMode ?? "PAY_PER_REQUEST";
  const throughput = options.provisionedThroughput;
  const problems = [
    nameProblem("tableName", tableName),
    nameProblem("correlationIndexName", indexNames.correlation),
    nameProblem("cleanupIndexName", indexNames.cleanup),
    indexNames.correlation === indexNames.cleanup
      ? `correlationIndexName and cleanupIndexName must differ, both are ${shown(indexNames.cleanup)}`
      : undefined,
    billingMode === "PAY_PER_REQUEST" || billingMode === "PROVISIONED"
      ? undefined
      : `billingMode must be "PAY_PER_REQUEST" or "PROVISIONED", got ${shown(billingMode)}`,
    billingMode === "PROVISIONED" && throughput === undefined
      ? "billingMode PROVISIONED needs provisionedThroughput"
      : undefined,
    throughput === undefined ? undefined : capacityProblem(throughput),
  ];
  return problems.find((problem) => problem !== undefined);
};

/**
 * The store's table: `PK`/`SK`, the correlation index (`GSI1PK`/`GSI1SK`, keys only: no
 * lookup reads it, and an update that changes no projected attribute costs the index
 * nothing) and the sparse cleanup index (`GSI2PK`/`GSI2SK`, with just what cleanup reads). Throws `ConfigurationError` (`options.invalid`) for a name,
 * billing mode or capacity DynamoDB would refuse.
 */
export const getTableSchema = (
  tableName: string,
  options: TableSchemaOptions = {},
): TableSchema => {
  const indexNames = {
    correlation: options.correlationIndexName ?? DEFAULT_INDEX_NAMES.correlationIndexName,
    cleanup: options.cleanupIndexName ?? DEFAULT_INDEX_NAMES.cleanupIndexName,
  };
  const problem = schemaOptionsProblem(tableName, options, indexNames);
  if (problem !== undefined) throw new ConfigurationError("options.invalid", problem);
  const billingMode = options.billingMode ?? "PAY_PER_REQUEST";
  const capacity =
    billingMode === "PROVISIONED"
      ? { ProvisionedThroughput: { ...options.provisionedThroughput! } }
      : {};
  const layout = DEFAULT_LAYOUT;
  const index = (name: string, { partitionKey, sortKey, projection }: IndexLayout) => ({
    IndexName: name,
    KeySchema: keySchema(partitionKey, sortKey),
    // A copy, so that a caller editing the schema cannot edit the layout.
    Projection: {
      ...projection,
      ...(projection.NonKeyAttributes
        ? { NonKeyAttributes: [...projection.NonKeyAttributes] }
        : {}),
    },
    ...capacity,
  });
  return {
    TableName: tableName,
    BillingMode: billingMode,
    ...capacity,
    KeySchema: keySchema(layout.partitionKey, layout.sortKey),
    AttributeDefinitions: keyAttributes(layout).map(attribute),
    GlobalSecondaryIndexes: [
      index(indexNames.correlation, layout.indexes.correlation),
      index(indexNames.cleanup, layout.indexes.cleanup),
    ],
  };
};

const describe = async (client: TableClient, tableName: string) =>
  (await client.send(
    new DescribeTableCommand({ TableName: tableName }),
  )) as DescribeTableCommandOutput;

/** Waits until the table and all its indexes are ACTIVE (or, with `gone`, until it no longer exists). */
export const waitForTable = async (
  client: TableClient,
  tableName: string,
  {
    maxWaitSeconds = 300,
    gone = false,
    timing = REAL_TIMING,
    indexes,
  }: {
    maxWaitSeconds?: number;
    gone?: boolean;
    timing?: Timing;
    /** The indexes that must be ACTIVE (default: all; others may be building meanwhile). */
    indexes?: readonly string[];
  } = {},
): Promise<void> => {
  const deadline = timing.now() + maxWaitSeconds * 1000;
  const awaited = (name: string | undefined) => indexes === undefined || indexes.includes(name!);
  for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) {
    try {
      const { Table } = await describe(client, tableName);
      const active =
        Table?.TableStatus === "ACTIVE" &&
        (Table.GlobalSecondaryIndexes ?? []).every(
          (index) => !awaited(index.IndexName) || index.IndexStatus === "ACTIVE",
        );
      if (active && !gone) return;
    } catch (error) {
      if (!isTableNotFound(error)) throw error;
      if (gone) return;
    }
    if (timing.now() > deadline) {
      throw new ConfigurationError(
        "table.invalid",
        `table ${tableName} did not become ${gone ? "deleted" : "ACTIVE"} within ${maxWaitSeconds}s`,
        { timedOut: true },
      );
    }
    await timing.sleep(delay);
  }
};

const describeTtl = async (client: TableClient, tableName: string) =>
  (
    (await client.send(
      new DescribeTimeToLiveCommand({ TableName: tableName }),
    )) as DescribeTimeToLiveCommandOutput
  ).TimeToLiveDescription;

/**
 * Whether TTL is on for `expiresAt` (true), off (false), or on for another attribute, which
 * the store cannot use (a `ConfigurationError`).
 */
const ttlIsOn = (tableName: string, ttl: TimeToLiveDescription | undefined): boolean => {
  const on = ttl?.TimeToLiveStatus === "ENABLED" || ttl?.TimeToLiveStatus === "ENABLING";
  if (on && ttl?.AttributeName !== TTL_ATTRIBUTE) {
    throw new ConfigurationError(
      "table.invalid",
      `table ${tableName} has TTL on attribute ${ttl?.AttributeName}, not ${TTL_ATTRIBUTE}`,
    );
  }
  return on;
};

const errorName = (error: unknown): unknown => (error as { name?: unknown } | null)?.name;

/**
 * Turns on TTL on `expiresAt` unless it is already on; returns whether it changed anything.
 * Another process may enable it between the read and the write: DynamoDB then refuses with
 * a `ValidationException` ("TimeToLive is already enabled"), which is success if TTL is now
 * on for `expiresAt` (re-read a few times, as the status may lag the refusal).
 */
const enableTtl = async (
  client: TableClient,
  tableName: string,
  timing: Timing,
): Promise<boolean> => {
  if (ttlIsOn(tableName, await describeTtl(client, tableName))) return false;
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    );
    return true;
  } catch (error) {
    if (errorName(error) !== "ValidationException") throw error;
    for (const delay of [0, 200, 1000]) {
      await timing.sleep(delay);
      if (ttlIsOn(tableName, await describeTtl(client, tableName))) return false;
    }
    throw error;
  }
};

/**
 * What `createTable` takes: its options (0.2.2's `{ tableName, correlationIndexName,
 * cleanupIndexName }` is one), or a schema `getTableSchema` returned.
 */
export type CreateTableInput = CreateTableOptions | TableSchema;

const isTableSchema = (input: CreateTableInput): input is TableSchema =>
  typeof input === "object" && input !== null && "TableName" in input;

/**
 * The options `schema` was made from. A schema edited after `getTableSchema` is refused:
 * creating something else than it says would be worse than failing.
 */
export const optionsOfSchema = (schema: TableSchema): CreateTableOptions => {
  const indexKeyedBy = (attribute: string) =>
    schema.GlobalSecondaryIndexes?.find((i) => i.KeySchema?.[0]?.AttributeName === attribute)
      ?.IndexName;
  const throughput = schema.ProvisionedThroughput;
  const options: CreateTableOptions = {
    tableName: schema.TableName,
    billingMode: schema.BillingMode,
    ...(throughput === undefined
      ? {}
      : {
          provisionedThroughput: {
            ReadCapacityUnits: throughput.ReadCapacityUnits ?? 0,
            WriteCapacityUnits: throughput.WriteCapacityUnits ?? 0,
          },
        }),
    correlationIndexName: indexKeyedBy(DEFAULT_LAYOUT.indexes.correlation.partitionKey),
    cleanupIndexName: indexKeyedBy(DEFAULT_LAYOUT.indexes.cleanup.partitionKey),
  };
  if (!isDeepStrictEqual(getTableSchema(options.tableName, options), schema)) {
    throw new ConfigurationError(
      "options.invalid",
      `createTable was given a schema of table ${String(schema.TableName)} that getTableSchema did not return as it is; pass getTableSchema's result unchanged, or options ({ tableName, billingMode, … })`,
    );
  }
  return options;
};

/**
 * Creates the store's table (on-demand billing unless told otherwise), waits until it is
 * ACTIVE, and enables TTL when asked. Takes options, or `getTableSchema`'s result as it is
 * (`createTable(client, getTableSchema(name))`, as with 0.2.2).
 */
export const createTable = async (
  client: TableClient,
  input: CreateTableInput,
): Promise<TableSchema> => {
  const options = isTableSchema(input) ? optionsOfSchema(input) : input;
  const schema = getTableSchema(options.tableName, options);
  await client.send(new CreateTableCommand(schema));
  await waitForTable(client, options.tableName, {
    maxWaitSeconds: options.maxWaitSeconds,
    timing: options.timing,
  });
  if (options.ttl) await enableTtl(client, options.tableName, options.timing ?? REAL_TIMING);
  const shards = layoutFor(options.shards).shards;
  // A new table has no marker: only a sharded one needs it.
  if (shards > 1) await recordLayout(client, options.tableName, shards);
  return schema;
};

/** What `ensureTable` changed, in order. Empty when the table was already complete. */
export type TableChange =
  | { readonly kind: "createdTable"; readonly tableName: string }
  | { readonly kind: "createdIndex"; readonly indexName: string }
  | { readonly kind: "deletedIndex"; readonly indexName: string; readonly reason: string }
  | { readonly kind: "enabledTtl"; readonly attributeName: string }
  | { readonly kind: "recordedLayout"; readonly shards: number };

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

/**
 * Every key attribute of the table and of its indexes that the store names, as a reason
 * when one is not a string: the store writes strings there, so a number or binary type
 * would fail every write. An index still to be added may find its attributes undeclared.
 */
const keyTypeMismatch = (table: TableDescription, schema: TableSchema): string | undefined => {
  const types = new Map(
    (table.AttributeDefinitions ?? []).map((a) => [a.AttributeName, a.AttributeType]),
  );
  const tableKeys = new Set((schema.KeySchema ?? []).map((k) => k.AttributeName));
  const keys = [schema.KeySchema, ...(schema.GlobalSecondaryIndexes ?? []).map((i) => i.KeySchema)]
    .flatMap((schemaKeys) => schemaKeys ?? [])
    .map((k) => k.AttributeName);
  for (const name of new Set(keys)) {
    const type = types.get(name);
    if (type === "S" || (type === undefined && !tableKeys.has(name))) continue;
    return `its key attribute ${name} must be a string (S), ${type === undefined ? "it is not declared" : `not ${type}`}`;
  }
  return undefined;
};

/**
 * Why an existing table cannot serve the store, or `undefined` when it can: the table's key
 * schema, the type of every key attribute of the table and its indexes, and the key schema
 * and projection of each index it has.
 */
export const tableMismatch = (
  table: TableDescription,
  schema: TableSchema,
  { projections = true }: { readonly projections?: boolean } = {},
): string | undefined => {
  if (keyText(table.KeySchema) !== keyText(schema.KeySchema)) {
    return `its key schema is (${keyText(table.KeySchema)}), the store needs (${keyText(schema.KeySchema)})`;
  }
  const mistyped = keyTypeMismatch(table, schema);
  if (mistyped !== undefined) return mistyped;
  for (const wanted of schema.GlobalSecondaryIndexes ?? []) {
    const found = table.GlobalSecondaryIndexes?.find((i) => i.IndexName === wanted.IndexName);
    if (found === undefined) continue;
    if (keyText(found.KeySchema) !== keyText(wanted.KeySchema)) {
      return `its index ${wanted.IndexName} has keys (${keyText(found.KeySchema)}), the store needs (${keyText(wanted.KeySchema)})`;
    }
    const missing = missingProjection(found.Projection, wanted.Projection);
    if (projections && missing.length > 0) {
      return (
        `its index ${wanted.IndexName} does not project ${missing.join(", ")} ` +
        "(ensureTable's replaceIndexes option, or `table ensure --replace-indexes`, replaces it)"
      );
    }
  }
  return undefined;
};

const projectionText = (projection: Projection | undefined): string =>
  [projection?.ProjectionType ?? "?", ...[...(projection?.NonKeyAttributes ?? [])].sort()].join(
    " ",
  );

/**
 * Indexes of the table whose keys fit but whose projection is not the store's: one that lacks
 * what the store reads, or one that holds more than it needs (0.3.0's `ALL` correlation
 * index), which every write of a projected attribute pays for.
 */
export const mismatchedProjections = (
  table: TableDescription,
  schema: TableSchema,
): Array<{ readonly indexName: string; readonly reason: string }> =>
  (schema.GlobalSecondaryIndexes ?? []).flatMap((wanted) => {
    const found = table.GlobalSecondaryIndexes?.find((i) => i.IndexName === wanted.IndexName);
    if (found === undefined) return [];
    const missing = missingProjection(found.Projection, wanted.Projection);
    if (missing.length > 0) {
      return [{ indexName: wanted.IndexName!, reason: `it did not project ${missing.join(", ")}` }];
    }
    const had = projectionText(found.Projection);
    const wants = projectionText(wanted.Projection);
    return had === wants
      ? []
      : [{ indexName: wanted.IndexName!, reason: `it projected ${had}, more than ${wants}` }];
  });

/** Throws `ConfigurationError` (`table.invalid`) when the table cannot serve the store. */
const refuseMismatch = (
  table: TableDescription,
  schema: TableSchema,
  options: { readonly projections?: boolean } = {},
): void => {
  const mismatch = tableMismatch(table, schema, options);
  if (mismatch !== undefined) {
    throw new ConfigurationError(
      "table.invalid",
      `table ${schema.TableName} cannot serve the saga store: ${mismatch}`,
    );
  }
};

/**
 * Makes sure the store's table exists and is complete: creates it when missing; on an
 * existing table, adds each missing index (one `UpdateTable` per index, as DynamoDB
 * requires) and enables TTL when asked, waiting until everything is ACTIVE. Refuses a table
 * whose keys, key types or projections cannot serve the store. Idempotent, and safe when
 * several processes run it at once: each tolerates the table, an index or TTL that another
 * created in the meantime.
 */
export const ensureTable = async (
  client: TableClient,
  options: CreateTableOptions,
): Promise<TableChange[]> => {
  const { tableName } = options;
  const schema = getTableSchema(tableName, options);
  // Only the store's own indexes: another application's index may backfill for hours.
  const wait = () =>
    waitForTable(client, tableName, {
      maxWaitSeconds: options.maxWaitSeconds,
      timing: options.timing,
      indexes: (schema.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName!),
    });
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
    const replace = options.replaceIndexes === true;
    refuseMismatch(table, schema, { projections: !replace });
    const replaced = replace ? mismatchedProjections(table, schema) : [];
    const found = (schema.GlobalSecondaryIndexes ?? []).map((index) =>
      table!.GlobalSecondaryIndexes?.find((i) => i.IndexName === index.IndexName),
    );
    // A table that serves the store is not waited for: an UPDATING table or index (capacity,
    // another application's index, a replica) reads and writes as usual. One still being
    // created, or one of the store's own indexes missing, being built or being deleted, is.
    const unusable = new Set(["CREATING", "DELETING"]);
    if (
      table.TableStatus === "CREATING" ||
      replaced.length > 0 ||
      found.some((index) => index === undefined || unusable.has(index.IndexStatus ?? ""))
    ) {
      await wait();
    }
    if (replace) {
      for (const { indexName, reason } of replaced) {
        if (await deleteIndex(client, tableName, indexName, wait)) {
          changes.push({ kind: "deletedIndex", indexName, reason });
        }
      }
    }
    let raced = false;
    for (const index of schema.GlobalSecondaryIndexes ?? []) {
      const added = await addIndex(client, schema, index, wait);
      if (added === "created") changes.push({ kind: "createdIndex", indexName: index.IndexName! });
      raced ||= added === "createdByAnother";
    }
    // An index another process created is checked like the ones found at the start.
    if (raced) refuseMismatch((await describe(client, tableName)).Table ?? table, schema);
  }
  const shards = layoutFor(options.shards).shards;
  if (await recordLayout(client, tableName, shards)) {
    changes.push({ kind: "recordedLayout", shards });
  }
  if (options.ttl && (await enableTtl(client, tableName, options.timing ?? REAL_TIMING))) {
    changes.push({ kind: "enabledTtl", attributeName: TTL_ATTRIBUTE });
  }
  return changes;
};

/** Options of `ensureTableFirst`: `ensureTable`'s, less what the store itself knows. */
export type EnsureTableFirstOptions = Omit<
  CreateTableOptions,
  "tableName" | "correlationIndexName" | "cleanupIndexName" | "shards" | "timing"
>;

/**
 * The store's opt-in ensure step (its `ensureTable` option): `ensureTable` through `client`
 * with the store's table, index names and shards, before the store's first request. The
 * client needs control-plane permissions (docs/iam-policy.md); a document client will do.
 */
export const ensureTableFirst =
  (client: TableClient, options: EnsureTableFirstOptions = {}): EnsureStep =>
  ({ table, timing, observe }) =>
    ensureTable(observe(client), {
      ...options,
      tableName: table.tableName,
      correlationIndexName: table.correlationIndexName,
      cleanupIndexName: table.cleanupIndexName,
      shards: layoutOf(table).shards,
      timing,
    });

const isInUse = (error: unknown): boolean => errorName(error) === "ResourceInUseException";

/**
 * Deletes one index and waits until it is gone; false when another process deleted it
 * first. The caller then adds it again with the store's projection.
 */
const deleteIndex = async (
  client: TableClient,
  tableName: string,
  indexName: string,
  wait: () => Promise<void>,
): Promise<boolean> => {
  try {
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: indexName } }],
      }),
    );
  } catch (error) {
    // Another process is replacing it too: its deletion is as good as ours.
    if (!isInUse(error) && errorName(error) !== "ResourceNotFoundException") throw error;
    await wait();
    return false;
  }
  await wait();
  return true;
};

/** The `UpdateTable` that adds `index` to the table `table` describes. */
const createIndexCommand = (
  table: TableDescription | undefined,
  schema: TableSchema,
  index: GlobalSecondaryIndex,
): UpdateTableCommand => {
  // A provisioned table needs capacity for a new index too: give it the table's own.
  const provisioned =
    table?.BillingModeSummary?.BillingMode === "PROVISIONED" ||
    (table?.BillingModeSummary === undefined &&
      (table?.ProvisionedThroughput?.ReadCapacityUnits ?? 0) > 0);
  const capacity =
    provisioned && index.ProvisionedThroughput === undefined
      ? {
          ProvisionedThroughput: {
            ReadCapacityUnits: table?.ProvisionedThroughput?.ReadCapacityUnits ?? 1,
            WriteCapacityUnits: table?.ProvisionedThroughput?.WriteCapacityUnits ?? 1,
          },
        }
      : {};
  const keyNames = new Set(index.KeySchema?.map((k) => k.AttributeName));
  return new UpdateTableCommand({
    TableName: schema.TableName,
    AttributeDefinitions: schema.AttributeDefinitions?.filter((a) => keyNames.has(a.AttributeName)),
    GlobalSecondaryIndexUpdates: [{ Create: { ...index, ...capacity } }],
  });
};

/**
 * How DynamoDB refuses an index another process is adding or has added: the table or index
 * is busy (`ResourceInUseException`), too many index changes at once
 * (`LimitExceededException`), or the index exists already (`ValidationException`).
 */
const CONCURRENT_INDEX_CHANGE: ReadonlySet<unknown> = new Set([
  "ResourceInUseException",
  "LimitExceededException",
  "ValidationException",
]);

/** How often `addIndex` tries while other processes keep the table busy. */
const INDEX_ATTEMPTS = 5;

/**
 * Adds one missing index (DynamoDB takes one per `UpdateTable`) and waits until it is
 * ACTIVE. Reads the table afresh before each attempt, since processes starting together add
 * the same indexes: a refusal caused by another process is success once the index is there,
 * and a busy table is tried again.
 */
const addIndex = async (
  client: TableClient,
  schema: TableSchema,
  index: GlobalSecondaryIndex,
  wait: () => Promise<void>,
): Promise<"present" | "created" | "createdByAnother"> => {
  const fresh = async () => (await describe(client, schema.TableName)).Table;
  const has = (t: TableDescription | undefined) =>
    t?.GlobalSecondaryIndexes?.some((i) => i.IndexName === index.IndexName) ?? false;
  let table = await fresh();
  if (has(table)) return "present";
  for (let attempt = 1; ; attempt++) {
    try {
      await client.send(createIndexCommand(table, schema, index));
    } catch (error) {
      if (!CONCURRENT_INDEX_CHANGE.has(errorName(error))) throw error;
      await wait();
      table = await fresh();
      if (has(table)) return "createdByAnother";
      // Still missing: a ValidationException was about this request itself.
      if (errorName(error) === "ValidationException" || attempt >= INDEX_ATTEMPTS) throw error;
      continue;
    }
    await wait();
    table = await fresh();
    if (has(table)) return "created";
    // DynamoDB Local may drop an index added while another is being added: add it again.
    if (attempt >= INDEX_ATTEMPTS) {
      throw new ConfigurationError(
        "table.invalid",
        `index ${index.IndexName} of table ${schema.TableName} did not appear after ${attempt} attempts`,
      );
    }
  }
};

/** The shard count a table records (1 when it has no marker item: the default layout). */
export const recordedShards = async (client: TableClient, tableName: string): Promise<number> => {
  const out = (await client.send(
    new GetItemCommand({
      TableName: tableName,
      Key: { PK: { S: LAYOUT_MARKER_KEY.PK }, SK: { S: LAYOUT_MARKER_KEY.SK } },
      ConsistentRead: true,
    }),
  )) as GetItemCommandOutput;
  const shards = Number(out.Item?.shards?.N ?? 1);
  return Number.isSafeInteger(shards) && shards > 0 ? shards : 1;
};

/**
 * Makes the table record `shards` (a marker item) unless it is 1; returns whether it wrote
 * the marker. Refuses a table laid out otherwise, or one that already holds items of the
 * default layout (their keys would be out of the stores' reach).
 */
const recordLayout = async (
  client: TableClient,
  tableName: string,
  shards: number,
): Promise<boolean> => {
  const recorded = await recordedShards(client, tableName);
  if (recorded === shards) return false;
  if (recorded !== 1) throw layoutMismatch(tableName, recorded, shards);
  const any = (await client.send(
    new ScanCommand({ TableName: tableName, Limit: 1, ProjectionExpression: "PK" }),
  )) as ScanCommandOutput;
  if ((any.Items?.length ?? 0) > 0) throw layoutMismatch(tableName, 1, shards);
  try {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          PK: { S: LAYOUT_MARKER_KEY.PK },
          SK: { S: LAYOUT_MARKER_KEY.SK },
          shards: { N: String(shards) },
        },
        ConditionExpression: "attribute_not_exists(PK)",
      }),
    );
  } catch (error) {
    // Another process recorded it first: theirs must say the same.
    if (errorName(error) !== "ConditionalCheckFailedException") throw error;
    const now = await recordedShards(client, tableName);
    if (now !== shards) throw layoutMismatch(tableName, now, shards);
    return false;
  }
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
