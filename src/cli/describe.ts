/**
 * `table describe`: what DescribeTable and DescribeTimeToLive say about the table, as a
 * report (printed as text, or as JSON with `--json`), and whether it can serve the store.
 */
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DescribeTableCommandOutput,
  type DescribeTimeToLiveCommandOutput,
  type KeySchemaElement,
  type Projection,
  type TableDescription,
  type TimeToLiveDescription,
} from "@aws-sdk/client-dynamodb";
import { recordedShards, tableMismatch, type TableClient, type TableSchema } from "../table.js";

/** One key attribute. */
export interface KeyReport {
  readonly attributeName: string;
  /** `HASH` or `RANGE`. */
  readonly keyType: string;
}

/** One global secondary index. */
export interface IndexReport {
  readonly indexName: string;
  /** `CREATING`, `ACTIVE`, `UPDATING`, `DELETING`. */
  readonly status: string;
  readonly keySchema: readonly KeyReport[];
  /** `ALL`, `KEYS_ONLY` or `INCLUDE`. */
  readonly projection: string;
  /** The attributes an `INCLUDE` projection adds. */
  readonly nonKeyAttributes: readonly string[];
}

/** What `table describe` reports. */
export interface TableReport {
  readonly tableName: string;
  /** The region asked (`--region`, or the one the SDK resolved); absent when not known. */
  readonly region?: string;
  /** `CREATING`, `ACTIVE`, `UPDATING`, `DELETING`, … */
  readonly status: string;
  /** `PAY_PER_REQUEST` or `PROVISIONED`. */
  readonly billingMode: string;
  /** Read and write capacity units of a provisioned table. */
  readonly provisioned?: {
    readonly readCapacityUnits: number;
    readonly writeCapacityUnits: number;
  };
  readonly keySchema: readonly KeyReport[];
  readonly indexes: readonly IndexReport[];
  /** Approximate: DynamoDB updates it about every six hours. */
  readonly itemCount: number | null;
  readonly sizeBytes: number | null;
  readonly createdAt: string | null;
  readonly ttl: { readonly status: string; readonly attributeName: string | null };
  /**
   * Shards per saga name: what the table records (`null` when it could not be read), and what
   * the stores that will use it have (`--shards`, default 1).
   */
  readonly shards: { readonly recorded: number | null; readonly expected: number };
  /** Whether the store can use the table as it is, and if not, why. */
  readonly store: { readonly ready: boolean; readonly problems: readonly string[] };
}

const keys = (schema: readonly KeySchemaElement[] | undefined): KeyReport[] =>
  (schema ?? []).map((k) => ({
    attributeName: k.AttributeName ?? "?",
    keyType: k.KeyType ?? "?",
  }));

const projection = (p: Projection | undefined) => ({
  projection: p?.ProjectionType ?? "?",
  nonKeyAttributes: [...(p?.NonKeyAttributes ?? [])],
});

/** Why stores of `expected` shards would refuse a table that records `recorded`, if they would. */
const shardProblem = (
  tableName: string,
  { recorded, expected }: TableReport["shards"],
): string | undefined => {
  if (recorded === null || recorded === expected) return undefined;
  return recorded === 1
    ? `the table records no shard count (1), the stores have ${expected}: record it with ` +
        `\`saga-store-dynamodb --table ${tableName} table ensure --shards ${expected}\``
    : `the table records shards: ${recorded}, the stores have ${expected} (changing it is a migration)`;
};

/** What keeps the store from using the table; empty when it can. */
const storeProblems = (
  table: TableDescription,
  schema: TableSchema,
  shards: TableReport["shards"],
): string[] => {
  const mismatch = tableMismatch(table, schema);
  if (mismatch !== undefined) return [mismatch];
  const problems: string[] = [];
  const shardMismatch = shardProblem(schema.TableName, shards);
  if (shardMismatch !== undefined) problems.push(shardMismatch);
  for (const wanted of schema.GlobalSecondaryIndexes ?? []) {
    const found = table.GlobalSecondaryIndexes?.find((i) => i.IndexName === wanted.IndexName);
    if (found === undefined) problems.push(`index ${wanted.IndexName} is missing`);
    else if (found.IndexStatus !== "ACTIVE") {
      problems.push(`index ${wanted.IndexName} is ${found.IndexStatus ?? "not active"}`);
    }
  }
  if (table.TableStatus !== "ACTIVE") problems.push(`the table is ${table.TableStatus ?? "?"}`);
  return problems;
};

/**
 * Builds the report from DynamoDB's answers; `schema` is the table the store expects,
 * `region` the one the client talked to.
 */
export const tableReport = (
  table: TableDescription,
  ttl: TimeToLiveDescription | undefined,
  schema: TableSchema,
  region?: string,
  shards: TableReport["shards"] = { recorded: 1, expected: 1 },
): TableReport => {
  const billingMode = table.BillingModeSummary?.BillingMode ?? "PROVISIONED";
  const throughput = table.ProvisionedThroughput;
  const problems = storeProblems(table, schema, shards);
  return {
    tableName: table.TableName ?? schema.TableName,
    ...(region === undefined ? {} : { region }),
    status: table.TableStatus ?? "?",
    billingMode,
    ...(billingMode === "PROVISIONED" && throughput !== undefined
      ? {
          provisioned: {
            readCapacityUnits: throughput.ReadCapacityUnits ?? 0,
            writeCapacityUnits: throughput.WriteCapacityUnits ?? 0,
          },
        }
      : {}),
    keySchema: keys(table.KeySchema),
    indexes: [...(table.GlobalSecondaryIndexes ?? [])]
      .sort((a, b) => (a.IndexName ?? "").localeCompare(b.IndexName ?? ""))
      .map((index) => ({
        indexName: index.IndexName ?? "?",
        status: index.IndexStatus ?? "?",
        keySchema: keys(index.KeySchema),
        ...projection(index.Projection),
      })),
    itemCount: table.ItemCount ?? null,
    sizeBytes: table.TableSizeBytes ?? null,
    createdAt: table.CreationDateTime?.toISOString() ?? null,
    ttl: {
      status: ttl?.TimeToLiveStatus ?? "DISABLED",
      attributeName: ttl?.AttributeName ?? null,
    },
    shards,
    store: { ready: problems.length === 0, problems },
  };
};

/**
 * Asks DynamoDB about the table (DescribeTable, DescribeTimeToLive) and builds the report;
 * `region` is the one `client` talks to, for the report to name.
 */
export const describeTable = async (
  client: TableClient,
  schema: TableSchema,
  region?: string,
  expectedShards = 1,
): Promise<TableReport> => {
  const { Table } = (await client.send(
    new DescribeTableCommand({ TableName: schema.TableName }),
  )) as DescribeTableCommandOutput;
  const { TimeToLiveDescription } = (await client.send(
    new DescribeTimeToLiveCommand({ TableName: schema.TableName }),
  )) as DescribeTimeToLiveCommandOutput;
  if (Table === undefined) throw new Error(`DescribeTable returned no table ${schema.TableName}`);
  // The marker item is data, read with GetItem: without that permission the count is unknown.
  const recorded = await recordedShards(client, schema.TableName).catch(() => null);
  return tableReport(Table, TimeToLiveDescription, schema, region, {
    recorded,
    expected: expectedShards,
  });
};

const keyText = (schema: readonly KeyReport[]): string =>
  schema.map((k) => `${k.attributeName} (${k.keyType})`).join(", ");

/** The report as aligned lines of text. */
export const reportText = (report: TableReport): string => {
  const rows: Array<[string, string]> = [
    ["table", report.tableName],
    ...(report.region === undefined ? [] : [["region", report.region] as [string, string]]),
    ["status", report.status],
    [
      "billing",
      report.provisioned === undefined
        ? report.billingMode
        : `${report.billingMode} (${report.provisioned.readCapacityUnits} RCU, ${report.provisioned.writeCapacityUnits} WCU)`,
    ],
    ["key schema", keyText(report.keySchema)],
    ["indexes", report.indexes.length === 0 ? "none" : ""],
  ];
  const width = 12;
  const lines = rows.map(([label, value]) => `${label.padEnd(width)}${value}`.trimEnd());
  const nameWidth = Math.max(0, ...report.indexes.map((i) => i.indexName.length)) + 2;
  for (const index of report.indexes) {
    const included =
      index.nonKeyAttributes.length === 0 ? "" : ` ${index.nonKeyAttributes.join(", ")}`;
    lines.push(
      `  ${index.indexName.padEnd(nameWidth)}${index.status.padEnd(10)}${keyText(index.keySchema)}; projection ${index.projection}${included}`,
    );
  }
  const more: Array<[string, string]> = [
    [
      "items",
      report.itemCount === null
        ? "unknown"
        : `${report.itemCount} (approximate, updated about every six hours)`,
    ],
    ["size", report.sizeBytes === null ? "unknown" : `${report.sizeBytes} bytes`],
    ["created", report.createdAt ?? "unknown"],
    [
      "ttl",
      report.ttl.attributeName === null
        ? report.ttl.status
        : `${report.ttl.status} on ${report.ttl.attributeName}`,
    ],
    [
      "shards",
      `${report.shards.recorded ?? "unknown (no dynamodb:GetItem?)"} recorded` +
        `, ${report.shards.expected} expected`,
    ],
    ["store", report.store.ready ? "ready" : `not ready: ${report.store.problems.join("; ")}`],
  ];
  for (const [label, value] of more) lines.push(`${label.padEnd(width)}${value}`);
  return lines.join("\n") + "\n";
};
