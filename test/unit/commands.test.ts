import {
  ConfigurationError,
  getTableSchema,
  type SagaState,
  type SagaStateMetadata,
} from "../../src";
import { encodeState, type EncodedState } from "../../src/internals";
import {
  cleanupScanInput,
  deleteCompletedSagasInput,
  deleteCorrelationsInput,
  deleteInput,
  expiresAt,
  findByNameInput,
  getCorrelationIdOfSagaInput,
  getCorrelationInput,
  getSagaInput,
  INSERT_ACTIONS,
  insertInput,
  MAX_BATCH_STATEMENTS,
  updateInput,
  type TableNames,
} from "../../src/commands";
import { CORRELATION_ID, metadata, NAME, SAGA_ID } from "../support/unit-states";

// ---------------------------------------------------------------------------------------------
// Helpers

/** `metadata.updatedAt` of the completing states: their completion time (late in a UTC day). */
const COMPLETED_AT = new Date("2024-05-02T23:30:00.000Z");
/** COMPLETED_AT in epoch seconds. */
const COMPLETED_AT_SECONDS = Date.UTC(2024, 4, 2, 23, 30, 0) / 1000;
/** Index names other than the default ones, which the commands must use. */
const TABLE: TableNames = {
  tableName: "sagas",
  correlationIndexName: "ByCorrelation",
  cleanupIndexName: "ByCompletion",
};

const encode = (
  fields: Record<string, unknown> = {},
  meta: Partial<SagaStateMetadata> = {},
): EncodedState =>
  encodeState({ ...fields, metadata: metadata(meta) } as SagaState, { sagaName: NAME }, undefined);

/** A completed state as saga-bus writes it: `updatedAt` is the time of the completing write. */
const completed = (
  fields: Record<string, unknown> = {},
  meta: Partial<SagaStateMetadata> = {},
): EncodedState => encode(fields, { isCompleted: true, updatedAt: COMPLETED_AT, ...meta });

/** SET and REMOVE parts of an update expression, each sorted (order does not matter). */
const clauses = (expression: string): { set: string[]; remove: string[] } => {
  const match = /^SET (.+?)(?: REMOVE (.+))?$/.exec(expression);
  if (match === null) throw new Error(`not a SET [REMOVE] expression: ${expression}`);
  // Split on commas that are not inside if_not_exists(...).
  const split = (list: string | undefined) =>
    list === undefined ? [] : list.split(/,\s*(?![^(]*\))/).sort();
  return { set: split(match[1]), remove: split(match[2]) };
};

/** Every placeholder declared in the maps is used, and every one used is declared. */
const expectPlaceholdersConsistent = (input: {
  UpdateExpression?: string;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}): void => {
  const text = `${input.UpdateExpression ?? ""} ${input.ConditionExpression ?? ""}`;
  const used = (prefix: string) =>
    [...new Set(text.match(new RegExp(`${prefix}[A-Za-z0-9_]+`, "g")) ?? [])].sort();
  expect(Object.keys(input.ExpressionAttributeNames ?? {}).sort()).toEqual(used("#"));
  expect(Object.keys(input.ExpressionAttributeValues ?? {}).sort()).toEqual(used(":"));
};

// ---------------------------------------------------------------------------------------------

describe("reads", () => {
  it("getSagaInput reads one saga item, with the requested consistency", () => {
    expect(getSagaInput(TABLE, NAME, SAGA_ID, true)).toEqual({
      TableName: "sagas",
      Key: { PK: "SAGA#OrderSaga", SK: "ID#saga-1" },
      ConsistentRead: true,
    });
    expect(getSagaInput(TABLE, NAME, SAGA_ID, false).ConsistentRead).toBe(false);
  });

  it("getCorrelationInput reads only the saga id of the correlation item, strongly", () => {
    expect(getCorrelationInput(TABLE, NAME, CORRELATION_ID)).toEqual({
      TableName: "sagas",
      Key: { PK: "SAGA#OrderSaga", SK: "CORR#order-42" },
      ConsistentRead: true,
      ProjectionExpression: "sagaId",
    });
  });

  it("getCorrelationInput reads eventually when asked (the eventual lookup)", () => {
    expect(getCorrelationInput(TABLE, NAME, CORRELATION_ID, false).ConsistentRead).toBe(false);
  });

  it("getCorrelationIdOfSagaInput reads only the correlation id of a saga, strongly", () => {
    expect(getCorrelationIdOfSagaInput(TABLE, NAME, SAGA_ID)).toEqual({
      TableName: "sagas",
      Key: { PK: "SAGA#OrderSaga", SK: "ID#saga-1" },
      ConsistentRead: true,
      ProjectionExpression: "correlationId",
    });
  });
});

describe("insertInput", () => {
  it("is a transaction of the saga Put and the correlation guard Put, both only if absent", () => {
    const input = insertInput(TABLE, NAME, CORRELATION_ID, encode({ total: 10 }));
    expect(input).toEqual({
      TransactItems: [
        {
          Put: {
            TableName: "sagas",
            Item: {
              PK: "SAGA#OrderSaga",
              SK: "ID#saga-1",
              GSI1PK: "SAGA#OrderSaga",
              GSI1SK: "CORR#order-42",
              sagaName: "OrderSaga",
              correlationId: "order-42",
              sagaId: "saga-1",
              version: 0,
              isCompleted: false,
              createdAt: "2024-05-01T10:00:00.000Z",
              updatedAt: "2024-05-01T10:00:05.000Z",
              state: '{"total":10}',
            },
            ConditionExpression: "attribute_not_exists(PK)",
          },
        },
        {
          Put: {
            TableName: "sagas",
            Item: { PK: "SAGA#OrderSaga", SK: "CORR#order-42", sagaId: "saga-1" },
            ConditionExpression: "attribute_not_exists(PK)",
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          },
        },
      ],
    });
    expect(INSERT_ACTIONS).toEqual({ saga: 0, correlation: 1, orphan: 2 });
  });

  it("writes optional metadata (null kept) and stateDates when present", () => {
    const input = insertInput(
      TABLE,
      NAME,
      CORRELATION_ID,
      encode(
        { dueAt: new Date("2024-06-01T00:00:00.000Z") },
        { archivedAt: null, traceParent: "tp", timeoutMs: 5000 },
      ),
    );
    const item = input.TransactItems![0]!.Put!.Item!;
    expect(item).toMatchObject({
      archivedAt: null,
      traceParent: "tp",
      timeoutMs: 5000,
      state: '{"dueAt":1717200000000}', // Dates as epoch milliseconds
      stateDates: '[["dueAt"]]',
    });
    expect(item).not.toHaveProperty("traceState");
    expect(item).not.toHaveProperty("timeoutExpiresAt");
    expect(item).not.toHaveProperty("GSI2PK");
    expect(item).not.toHaveProperty("completedAt");
  });

  it("puts a saga inserted completed into the cleanup index (UTC day of its updatedAt)", () => {
    const input = insertInput(TABLE, NAME, CORRELATION_ID, completed());
    expect(input.TransactItems![0]!.Put!.Item).toMatchObject({
      isCompleted: true,
      completedAt: "2024-05-02T23:30:00.000Z",
      GSI2PK: "COMPLETED#2024-05-02",
      GSI2SK: "OrderSaga#saga-1",
    });
  });

  it("without a TTL writes no expiresAt, even for a saga inserted completed", () => {
    const input = insertInput(TABLE, NAME, CORRELATION_ID, completed(), {});
    expect(input.TransactItems![0]!.Put!.Item).not.toHaveProperty("expiresAt");
  });

  it("with a TTL writes expiresAt (completion epoch seconds + TTL) on a saga inserted completed", () => {
    const input = insertInput(TABLE, NAME, CORRELATION_ID, completed(), { ttlSeconds: 3600 });
    const item = input.TransactItems![0]!.Put!.Item!;
    expect(item.expiresAt).toBe(COMPLETED_AT_SECONDS + 3600);
    expect(item.completedAt).toBe(COMPLETED_AT.toISOString());
    // The correlation guard never expires.
    expect(input.TransactItems![1]!.Put!.Item).toEqual({
      PK: "SAGA#OrderSaga",
      SK: "CORR#order-42",
      sagaId: "saga-1",
    });
  });

  it("with a TTL writes no expiresAt on a saga inserted active", () => {
    const input = insertInput(TABLE, NAME, CORRELATION_ID, encode(), { ttlSeconds: 3600 });
    expect(input.TransactItems![0]!.Put!.Item).not.toHaveProperty("expiresAt");
    expect(input.TransactItems![0]!.Put!.Item).not.toHaveProperty("completedAt");
  });

  it("with orphanedBy takes over the correlation item of a saga that no longer exists", () => {
    const plain = insertInput(TABLE, NAME, CORRELATION_ID, encode({ total: 10 }));
    const input = insertInput(TABLE, NAME, CORRELATION_ID, encode({ total: 10 }), {
      orphanedBy: "gone-1",
    });
    expect(input.TransactItems).toHaveLength(3);
    // The saga Put is the same as a plain insert's.
    expect(input.TransactItems![INSERT_ACTIONS.saga]).toEqual(plain.TransactItems![0]);
    expect(input.TransactItems![INSERT_ACTIONS.correlation]).toEqual({
      Put: {
        TableName: "sagas",
        Item: { PK: "SAGA#OrderSaga", SK: "CORR#order-42", sagaId: "saga-1" },
        ConditionExpression: "sagaId = :orphanedBy",
        ExpressionAttributeValues: { ":orphanedBy": "gone-1" },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      },
    });
    expect(input.TransactItems![INSERT_ACTIONS.orphan]).toEqual({
      ConditionCheck: {
        TableName: "sagas",
        Key: { PK: "SAGA#OrderSaga", SK: "ID#gone-1" },
        ConditionExpression: "attribute_not_exists(PK)",
      },
    });
  });

  it("with orphanedBy and a TTL does both", () => {
    const input = insertInput(TABLE, NAME, CORRELATION_ID, completed(), {
      orphanedBy: "gone-1",
      ttlSeconds: 60,
    });
    expect(input.TransactItems![0]!.Put!.Item!.expiresAt).toBe(COMPLETED_AT_SECONDS + 60);
    expect(input.TransactItems![1]!.Put!.ConditionExpression).toBe("sagaId = :orphanedBy");
    expect(input.TransactItems![2]!.ConditionCheck!.Key).toEqual({
      PK: "SAGA#OrderSaga",
      SK: "ID#gone-1",
    });
  });
});

describe("updateInput", () => {
  it("sets metadata and state, removes absent optionals, and is conditional on the version", () => {
    const input = updateInput(TABLE, NAME, encode({ total: 11 }, { version: 1 }), 0);
    expect(input).toEqual({
      TableName: "sagas",
      Key: { PK: "SAGA#OrderSaga", SK: "ID#saga-1" },
      UpdateExpression: expect.any(String),
      ConditionExpression: "#version = :expectedVersion",
      ExpressionAttributeNames: {
        "#version": "version",
        "#isCompleted": "isCompleted",
        "#createdAt": "createdAt",
        "#updatedAt": "updatedAt",
        "#archivedAt": "archivedAt",
        "#traceParent": "traceParent",
        "#traceState": "traceState",
        "#timeoutMs": "timeoutMs",
        "#timeoutExpiresAt": "timeoutExpiresAt",
        "#state": "state",
        "#stateDates": "stateDates",
        "#completedAt": "completedAt",
        "#GSI2PK": "GSI2PK",
        "#GSI2SK": "GSI2SK",
        "#expiresAt": "expiresAt",
      },
      ExpressionAttributeValues: {
        ":expectedVersion": 0,
        ":version": 1,
        ":isCompleted": false,
        ":createdAt": "2024-05-01T10:00:00.000Z",
        ":updatedAt": "2024-05-01T10:00:05.000Z",
        ":state": '{"total":11}',
      },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    });
    expect(clauses(input.UpdateExpression!)).toEqual({
      set: [
        "#createdAt = :createdAt",
        "#isCompleted = :isCompleted",
        "#state = :state",
        "#updatedAt = :updatedAt",
        "#version = :version",
      ],
      remove: [
        "#GSI2PK",
        "#GSI2SK",
        "#archivedAt",
        "#completedAt",
        "#expiresAt",
        "#stateDates",
        "#timeoutExpiresAt",
        "#timeoutMs",
        "#traceParent",
        "#traceState",
      ],
    });
    expectPlaceholdersConsistent(input);
  });

  it("never rewrites keys, the saga id or the correlation attributes", () => {
    const input = updateInput(TABLE, NAME, encode({}, { version: 1 }), 0);
    const written = Object.values(input.ExpressionAttributeNames!);
    for (const attribute of [
      "PK",
      "SK",
      "sagaId",
      "sagaName",
      "correlationId",
      "GSI1PK",
      "GSI1SK",
    ]) {
      expect(written).not.toContain(attribute);
    }
  });

  it("sets null optional metadata (keeps it as null) instead of removing it", () => {
    const input = updateInput(
      TABLE,
      NAME,
      encode({}, { version: 2, archivedAt: null, timeoutMs: null }),
      1,
    );
    const { set, remove } = clauses(input.UpdateExpression!);
    expect(set).toEqual(
      expect.arrayContaining(["#archivedAt = :archivedAt", "#timeoutMs = :timeoutMs"]),
    );
    expect(remove).not.toContain("#archivedAt");
    expect(remove).not.toContain("#timeoutMs");
    expect(input.ExpressionAttributeValues).toMatchObject({
      ":archivedAt": null,
      ":timeoutMs": null,
      ":expectedVersion": 1,
      ":version": 2,
    });
    expectPlaceholdersConsistent(input);
  });

  it("marks completion with if_not_exists (the first completion day sticks) and has no REMOVE when nothing is absent", () => {
    const encoded = completed(
      { dueAt: new Date("2024-06-01T00:00:00.000Z") },
      {
        version: 5,
        archivedAt: new Date("2024-05-02T00:00:00.000Z"),
        traceParent: "tp",
        traceState: "ts",
        timeoutMs: 1000,
        timeoutExpiresAt: new Date("2024-05-02T00:00:01.000Z"),
      },
    );
    const input = updateInput(TABLE, NAME, encoded, 4);
    expect(input.UpdateExpression).not.toContain("REMOVE");
    expect(clauses(input.UpdateExpression!)).toEqual({
      set: [
        "#GSI2PK = if_not_exists(#GSI2PK, :GSI2PK)",
        "#GSI2SK = :GSI2SK",
        "#archivedAt = :archivedAt",
        "#completedAt = if_not_exists(#completedAt, :completedAt)",
        "#createdAt = :createdAt",
        "#isCompleted = :isCompleted",
        "#state = :state",
        "#stateDates = :stateDates",
        "#timeoutExpiresAt = :timeoutExpiresAt",
        "#timeoutMs = :timeoutMs",
        "#traceParent = :traceParent",
        "#traceState = :traceState",
        "#updatedAt = :updatedAt",
        "#version = :version",
      ],
      remove: [],
    });
    expect(input.ExpressionAttributeValues).toMatchObject({
      ":expectedVersion": 4,
      ":version": 5,
      ":isCompleted": true,
      ":updatedAt": "2024-05-02T23:30:00.000Z",
      ":completedAt": "2024-05-02T23:30:00.000Z",
      ":GSI2PK": "COMPLETED#2024-05-02",
      ":GSI2SK": "OrderSaga#saga-1",
      ":archivedAt": "2024-05-02T00:00:00.000Z",
      ":timeoutExpiresAt": "2024-05-02T00:00:01.000Z",
      ":stateDates": '[["dueAt"]]',
    });
    expect(input.ConditionExpression).toBe("#version = :expectedVersion");
    expectPlaceholdersConsistent(input);
  });

  it("removes the GSI2 attributes and completedAt while not completed", () => {
    const input = updateInput(TABLE, NAME, encode({}, { version: 3 }), 2);
    expect(clauses(input.UpdateExpression!).remove).toEqual(
      expect.arrayContaining(["#GSI2PK", "#GSI2SK", "#completedAt"]),
    );
    expect(input.ExpressionAttributeValues).not.toHaveProperty(":GSI2PK");
    expect(input.ExpressionAttributeValues).not.toHaveProperty(":completedAt");
  });

  it("removes expiresAt while not completed, with or without a TTL (a reopened saga must not expire)", () => {
    for (const options of [{}, { ttlSeconds: 3600 }]) {
      const input = updateInput(TABLE, NAME, encode({}, { version: 3 }), 2, options);
      expect(clauses(input.UpdateExpression!).remove).toContain("#expiresAt");
      expect(input.ExpressionAttributeValues).not.toHaveProperty(":expiresAt");
      expectPlaceholdersConsistent(input);
    }
  });

  it("with a TTL sets expiresAt at completion only if absent (the first completion's expiry sticks)", () => {
    const input = updateInput(TABLE, NAME, completed({}, { version: 4 }), 3, {
      ttlSeconds: 86400,
    });
    const { set, remove } = clauses(input.UpdateExpression!);
    expect(set).toContain("#expiresAt = if_not_exists(#expiresAt, :expiresAt)");
    expect(remove).not.toContain("#expiresAt");
    expect(input.ExpressionAttributeNames).toMatchObject({ "#expiresAt": "expiresAt" });
    expect(input.ExpressionAttributeValues).toMatchObject({
      ":expiresAt": COMPLETED_AT_SECONDS + 86400,
    });
    expectPlaceholdersConsistent(input);
  });

  it("without a TTL neither sets nor removes expiresAt at completion", () => {
    const input = updateInput(TABLE, NAME, completed({}, { version: 4 }), 3);
    expect(input.UpdateExpression).not.toContain("expiresAt");
    expect(input.ExpressionAttributeNames).not.toHaveProperty("#expiresAt");
    expect(input.ExpressionAttributeValues).not.toHaveProperty(":expiresAt");
  });

  it("ignores orphanedBy (an insert-only option)", () => {
    const encoded = encode({}, { version: 1 });
    expect(updateInput(TABLE, NAME, encoded, 0, { orphanedBy: "x" })).toEqual(
      updateInput(TABLE, NAME, encoded, 0),
    );
  });
});

describe("expiresAt", () => {
  it("is the completion time in whole epoch seconds (rounded down) plus the TTL", () => {
    expect(expiresAt(COMPLETED_AT, 3600)).toBe(COMPLETED_AT_SECONDS + 3600);
    expect(expiresAt(new Date("2024-05-02T23:30:00.999Z"), 1)).toBe(COMPLETED_AT_SECONDS + 1);
    expect(expiresAt(new Date(0), 5)).toBe(5);
    expect(Number.isInteger(expiresAt(new Date("2024-05-02T23:30:00.500Z"), 10))).toBe(true);
  });
});

describe("deleteInput", () => {
  it("deletes the saga (if it still has this correlation) and its guard (if still its own)", () => {
    expect(deleteInput(TABLE, NAME, SAGA_ID, CORRELATION_ID)).toEqual({
      TransactItems: [
        {
          Delete: {
            TableName: "sagas",
            Key: { PK: "SAGA#OrderSaga", SK: "ID#saga-1" },
            ConditionExpression: "correlationId = :correlationId",
            ExpressionAttributeValues: { ":correlationId": "order-42" },
          },
        },
        {
          Delete: {
            TableName: "sagas",
            Key: { PK: "SAGA#OrderSaga", SK: "CORR#order-42" },
            ConditionExpression: "attribute_not_exists(PK) OR sagaId = :sagaId",
            ExpressionAttributeValues: { ":sagaId": "saga-1" },
          },
        },
      ],
    });
  });
});

describe("findByNameInput", () => {
  it("queries the saga items of one name (not the correlation items)", () => {
    expect(findByNameInput(TABLE, NAME, {}, true)).toEqual({
      TableName: "sagas",
      KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
      ExpressionAttributeValues: { ":pk": "SAGA#OrderSaga", ":prefix": "ID#" },
      ConsistentRead: true,
    });
  });

  it("adds Limit, ExclusiveStartKey and the completed filter when asked", () => {
    expect(
      findByNameInput(TABLE, NAME, { limit: 25, startSortKey: "ID#abc", completed: false }, false),
    ).toEqual({
      TableName: "sagas",
      KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
      FilterExpression: "isCompleted = :completed",
      ExpressionAttributeValues: {
        ":pk": "SAGA#OrderSaga",
        ":prefix": "ID#",
        ":completed": false,
      },
      Limit: 25,
      ExclusiveStartKey: { PK: "SAGA#OrderSaga", SK: "ID#abc" },
      ConsistentRead: false,
    });
  });
});

describe("cleanupScanInput", () => {
  const before = new Date("2024-04-01T00:00:00.000Z");

  it("scans one segment of the cleanup index for completed sagas of one name before the cutoff", () => {
    expect(cleanupScanInput(TABLE, NAME, before, { index: 2, total: 4 }, undefined)).toEqual({
      TableName: "sagas",
      IndexName: "ByCompletion",
      FilterExpression: "begins_with(GSI2SK, :prefix) AND completedAt < :before",
      ExpressionAttributeValues: {
        ":prefix": "OrderSaga#",
        ":before": "2024-04-01T00:00:00.000Z",
      },
      ProjectionExpression: "sagaId, correlationId",
      Segment: 2,
      TotalSegments: 4,
    });
  });

  it("continues from a start key", () => {
    const startKey = {
      PK: "SAGA#OrderSaga",
      SK: "ID#x",
      GSI2PK: "COMPLETED#2024-01-01",
      GSI2SK: "OrderSaga#x",
    };
    expect(cleanupScanInput(TABLE, NAME, before, { index: 0, total: 1 }, startKey)).toMatchObject({
      ExclusiveStartKey: startKey,
      Segment: 0,
      TotalSegments: 1,
    });
  });
});

describe("deleteCompletedSagasInput", () => {
  const before = new Date("2024-04-01T00:00:00.000Z");

  it("is one conditional PartiQL DELETE per saga: only if still completed before the cutoff", () => {
    const victims = [
      { sagaId: "a", correlationId: "ca" },
      { sagaId: "b#1", correlationId: "cb" },
    ];
    expect(deleteCompletedSagasInput(TABLE, NAME, victims, before)).toEqual({
      Statements: [
        {
          Statement:
            'DELETE FROM "sagas" WHERE PK = ? AND SK = ? AND isCompleted = ? AND completedAt < ? RETURNING ALL OLD *',
          Parameters: ["SAGA#OrderSaga", "ID#a", true, "2024-04-01T00:00:00.000Z"],
        },
        {
          Statement:
            'DELETE FROM "sagas" WHERE PK = ? AND SK = ? AND isCompleted = ? AND completedAt < ? RETURNING ALL OLD *',
          Parameters: ["SAGA#OrderSaga", "ID#b#1", true, "2024-04-01T00:00:00.000Z"],
        },
      ],
    });
  });

  it("passes ids as parameters, never inside the statement text", () => {
    const victims = [{ sagaId: "x' OR '1'='1", correlationId: '"; DROP' }];
    const { Statements } = deleteCompletedSagasInput(TABLE, NAME, victims, before);
    expect(Statements![0]!.Statement).not.toContain("x'");
    expect(Statements![0]!.Parameters).toContain("ID#x' OR '1'='1");
  });

  it("quotes the table name (names may hold - and .)", () => {
    const table = { ...TABLE, tableName: "my-app.sagas" };
    const { Statements } = deleteCompletedSagasInput(
      table,
      NAME,
      [{ sagaId: "a", correlationId: "c" }],
      before,
    );
    expect(Statements![0]!.Statement).toMatch(/^DELETE FROM "my-app\.sagas" WHERE /);
  });
});

describe("deleteCorrelationsInput", () => {
  it("is one PartiQL DELETE per correlation item, only while it still names its saga", () => {
    const victims = [
      { sagaId: "a", correlationId: "ca" },
      { sagaId: "b", correlationId: "c#b" },
    ];
    expect(deleteCorrelationsInput(TABLE, NAME, victims)).toEqual({
      Statements: [
        {
          Statement: 'DELETE FROM "sagas" WHERE PK = ? AND SK = ? AND sagaId = ?',
          Parameters: ["SAGA#OrderSaga", "CORR#ca", "a"],
        },
        {
          Statement: 'DELETE FROM "sagas" WHERE PK = ? AND SK = ? AND sagaId = ?',
          Parameters: ["SAGA#OrderSaga", "CORR#c#b", "b"],
        },
      ],
    });
  });

  it("batches hold at most DynamoDB's 25 statements", () => {
    expect(MAX_BATCH_STATEMENTS).toBe(25);
  });
});

describe("getTableSchema", () => {
  const keySchema = (hash: string, range: string) => [
    { AttributeName: hash, KeyType: "HASH" },
    { AttributeName: range, KeyType: "RANGE" },
  ];

  it("defines the table of the seed README, on-demand by default", () => {
    expect(getTableSchema("saga-instances")).toEqual({
      TableName: "saga-instances",
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: keySchema("PK", "SK"),
      AttributeDefinitions: ["PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"].map((name) => ({
        AttributeName: name,
        AttributeType: "S",
      })),
      GlobalSecondaryIndexes: [
        {
          IndexName: "GSI1",
          KeySchema: keySchema("GSI1PK", "GSI1SK"),
          Projection: { ProjectionType: "KEYS_ONLY" },
        },
        {
          IndexName: "GSI2",
          KeySchema: keySchema("GSI2PK", "GSI2SK"),
          Projection: {
            ProjectionType: "INCLUDE",
            NonKeyAttributes: ["sagaId", "correlationId", "completedAt"],
          },
        },
      ],
    });
  });

  it("has no throughput anywhere when on-demand", () => {
    const schema = getTableSchema("table-1", { billingMode: "PAY_PER_REQUEST" });
    expect(schema).not.toHaveProperty("ProvisionedThroughput");
    for (const index of schema.GlobalSecondaryIndexes!) {
      expect(index).not.toHaveProperty("ProvisionedThroughput");
    }
  });

  it("uses custom index names", () => {
    const schema = getTableSchema("table-1", {
      correlationIndexName: "ByCorrelation",
      cleanupIndexName: "ByCompletion",
    });
    expect(schema.GlobalSecondaryIndexes!.map((index) => index.IndexName)).toEqual([
      "ByCorrelation",
      "ByCompletion",
    ]);
  });

  it("puts the provisioned throughput on the table and both indexes", () => {
    const throughput = { ReadCapacityUnits: 5, WriteCapacityUnits: 3 };
    const schema = getTableSchema("table-1", {
      billingMode: "PROVISIONED",
      provisionedThroughput: throughput,
    });
    expect(schema.BillingMode).toBe("PROVISIONED");
    expect(schema.ProvisionedThroughput).toEqual(throughput);
    expect(schema.GlobalSecondaryIndexes).toHaveLength(2);
    for (const index of schema.GlobalSecondaryIndexes!) {
      expect(index.ProvisionedThroughput).toEqual(throughput);
    }
  });

  it("refuses PROVISIONED without throughput", () => {
    expect(() => getTableSchema("table-1", { billingMode: "PROVISIONED" })).toThrow(
      ConfigurationError,
    );
    expect(() => getTableSchema("table-1", { billingMode: "PROVISIONED" })).toThrow(
      expect.objectContaining({
        code: "options.invalid",
        message: "billingMode PROVISIONED needs provisionedThroughput",
      }),
    );
  });
});
