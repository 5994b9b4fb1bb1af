/**
 * Table management without a server: options refused before any request, the key types an
 * existing table must have, and how a refused `UpdateTimeToLive` is read. What DynamoDB
 * itself does is in test/integration/table-races.test.ts.
 */
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetItemCommand,
  type TableDescription,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import {
  ConfigurationError,
  createTable,
  ensureTable,
  getTableSchema,
  type CreateTableOptions,
} from "../../src";
import { tableMismatch } from "../../src/internals";
import { tableReport } from "../../src/cli/describe";
import { rejection } from "../support/caught";
import { recordingTableClient } from "../support/table-client";

/** An AWS-style error: DynamoDB's name and message. */
const awsError = (name: string, message: string): Error =>
  Object.assign(new Error(message), { name, $metadata: {} });

describe("table options DynamoDB would refuse are a ConfigurationError before any request", () => {
  const invalid: Array<[string, Record<string, unknown>, string]> = [
    ["a missing tableName", { tableName: undefined }, "tableName must be a DynamoDB name"],
    ["a tableName of 2 characters", { tableName: "ab" }, 'got "ab"'],
    ["a tableName with a space", { tableName: "my table" }, 'got "my table"'],
    ["a tableName of 256 characters", { tableName: "a".repeat(256) }, "3-255"],
    ["a tableName that is no string", { tableName: 42 }, "got 42"],
    ["an invalid correlationIndexName", { correlationIndexName: "G1" }, "correlationIndexName"],
    ["an invalid cleanupIndexName", { cleanupIndexName: "by/date" }, "cleanupIndexName"],
    [
      "the same name for both indexes",
      { correlationIndexName: "Index", cleanupIndexName: "Index" },
      "must differ",
    ],
    ["billingMode ON_DEMAND", { billingMode: "ON_DEMAND" }, 'got "ON_DEMAND"'],
    [
      "PROVISIONED without throughput",
      { billingMode: "PROVISIONED" },
      "billingMode PROVISIONED needs provisionedThroughput",
    ],
    ...[0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "5", undefined].map(
      (units): [string, Record<string, unknown>, string] => [
        `ReadCapacityUnits ${String(units)}`,
        {
          billingMode: "PROVISIONED",
          provisionedThroughput: { ReadCapacityUnits: units, WriteCapacityUnits: 5 },
        },
        "provisionedThroughput.ReadCapacityUnits must be a whole number from 1",
      ],
    ),
    [
      "WriteCapacityUnits 0",
      {
        billingMode: "PROVISIONED",
        provisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 0 },
      },
      "provisionedThroughput.WriteCapacityUnits must be a whole number from 1, got 0",
    ],
  ];

  it.each(invalid)("%s", async (_what, overrides, message) => {
    const options = { tableName: "sagas", ...overrides } as unknown as CreateTableOptions;
    const expected = { name: "ConfigurationError", code: "options.invalid" };
    const schemaError = (() => {
      try {
        getTableSchema(options.tableName, options);
      } catch (error) {
        return error;
      }
      throw new Error("expected getTableSchema to throw");
    })();
    expect(schemaError).toBeInstanceOf(ConfigurationError);
    expect(schemaError).toMatchObject(expected);
    expect((schemaError as Error).message).toContain(message);

    const { client, sent } = recordingTableClient();
    expect(await rejection(createTable(client, options))).toMatchObject(expected);
    expect(await rejection(ensureTable(client, { ...options, ttl: true }))).toMatchObject(expected);
    expect(sent).toEqual([]);
  });

  it("accepts names of 3 and 255 characters of every allowed kind, and whole capacity units", () => {
    const schema = getTableSchema("a.b", {
      correlationIndexName: "x".repeat(255),
      cleanupIndexName: "By_Completion-2",
      billingMode: "PROVISIONED",
      provisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 40000 },
    });
    expect(schema.TableName).toBe("a.b");
    expect(schema.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual([
      "x".repeat(255),
      "By_Completion-2",
    ]);
  });
});

describe("an existing table whose index keys are not strings", () => {
  const schema = getTableSchema("sagas");
  /** The table DynamoDB describes after creating `schema` with `types` for some attributes. */
  const described = (types: Record<string, "S" | "N" | "B">): TableDescription => ({
    TableName: "sagas",
    TableStatus: "ACTIVE",
    KeySchema: schema.KeySchema,
    AttributeDefinitions: schema.AttributeDefinitions?.map((a) => ({
      AttributeName: a.AttributeName,
      AttributeType: types[a.AttributeName!] ?? "S",
    })),
    GlobalSecondaryIndexes: schema.GlobalSecondaryIndexes?.map((index) => ({
      ...index,
      IndexStatus: "ACTIVE",
    })),
  });

  it.each(["GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"])(
    "is refused when %s is a number, and `table describe` says not ready",
    (attribute) => {
      const table = described({ [attribute]: "N" });
      const problem = `its key attribute ${attribute} must be a string (S), not N`;
      expect(tableMismatch(table, schema)).toBe(problem);
      expect(tableReport(table, undefined, schema).store).toEqual({
        ready: false,
        problems: [problem],
      });
    },
  );

  it("is refused when an index to be added would reuse an attribute declared binary", () => {
    const table = described({ GSI2SK: "B" });
    const withoutCleanupIndex = {
      ...table,
      GlobalSecondaryIndexes: table.GlobalSecondaryIndexes?.slice(0, 1),
    };
    expect(tableMismatch(withoutCleanupIndex, schema)).toBe(
      "its key attribute GSI2SK must be a string (S), not B",
    );
  });

  it("is accepted when every key attribute is a string, or undeclared for a missing index", () => {
    const table = described({});
    expect(tableMismatch(table, schema)).toBeUndefined();
    const withoutIndexes: TableDescription = {
      ...table,
      AttributeDefinitions: table.AttributeDefinitions?.slice(0, 2),
      GlobalSecondaryIndexes: undefined,
    };
    expect(tableMismatch(withoutIndexes, schema)).toBeUndefined();
  });

  it("ensureTable refuses it with table.invalid and sends no UpdateTable", async () => {
    const table = described({ GSI1SK: "N" });
    const { client, sent } = recordingTableClient(() => ({ Table: table }));
    const error = await rejection(ensureTable(client, { tableName: "sagas" }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: "table.invalid" });
    expect((error as Error).message).toContain("GSI1SK must be a string (S), not N");
    expect(sent.every((command) => command instanceof DescribeTableCommand)).toBe(true);
  });
});

describe("enabling TTL when another process enables it in between", () => {
  const activeTable = (): TableDescription => {
    const schema = getTableSchema("sagas");
    return {
      TableName: "sagas",
      TableStatus: "ACTIVE",
      KeySchema: schema.KeySchema,
      AttributeDefinitions: schema.AttributeDefinitions,
      GlobalSecondaryIndexes: schema.GlobalSecondaryIndexes?.map((index) => ({
        ...index,
        IndexStatus: "ACTIVE",
      })),
    };
  };

  /**
   * A table whose TTL reads DISABLED once, after which the update is refused as DynamoDB
   * refuses it and TTL reads ENABLED on `attributeName`.
   */
  const racedClient = (attributeName: string, refusal: Error) => {
    let ttlReads = 0;
    return recordingTableClient((command) => {
      if (command instanceof DescribeTableCommand) return { Table: activeTable() };
      // The layout marker: none, so the table has the default layout.
      if (command instanceof GetItemCommand) return {};
      if (command instanceof UpdateTimeToLiveCommand) throw refusal;
      if (command instanceof DescribeTimeToLiveCommand) {
        ttlReads += 1;
        return {
          TimeToLiveDescription:
            ttlReads === 1
              ? { TimeToLiveStatus: "DISABLED" }
              : { TimeToLiveStatus: "ENABLED", AttributeName: attributeName },
        };
      }
      throw new Error(`unexpected ${command.constructor.name}`);
    });
  };

  it("reads the refusal 'TimeToLive is already enabled' as success when TTL is on expiresAt", async () => {
    const { client, sent } = racedClient(
      "expiresAt",
      awsError("ValidationException", "TimeToLive is already enabled"),
    );
    expect(await ensureTable(client, { tableName: "sagas", ttl: true })).toEqual([]);
    expect(sent.filter((c) => c instanceof DescribeTimeToLiveCommand)).toHaveLength(2);
  });

  it("refuses TTL on another attribute with table.invalid", async () => {
    const { client } = racedClient(
      "deleteAt",
      awsError("ValidationException", "TimeToLive is active on a different AttributeName"),
    );
    const error = await rejection(ensureTable(client, { tableName: "sagas", ttl: true }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: "table.invalid" });
    expect((error as Error).message).toContain("TTL on attribute deleteAt, not expiresAt");
  });

  it("passes other failures of the update on unchanged", async () => {
    const throttled = awsError("ThrottlingException", "Rate exceeded");
    const { client } = racedClient("expiresAt", throttled);
    expect(await rejection(ensureTable(client, { tableName: "sagas", ttl: true }))).toBe(throttled);
  });
});
