/** Reading 0.2.2 items and planning their migration: plain values in, plain values out. */
import * as E from "fp-ts/lib/Either.js";
import type { TableNames } from "../../src/commands";
import {
  convertInput,
  convertLegacyItem,
  finishInput,
  getLegacyInput,
  isLegacyItem,
  legacyScanInput,
  planMigration,
  prepareMigration,
  readCancellation,
  reviveDates,
  reviveIsoDate,
  type LegacySaga,
  type RawItem,
} from "../../src/legacy";

// ---------------------------------------------------------------------------------------------
// Helpers

const TABLE: TableNames = {
  tableName: "sagas",
  correlationIndexName: "GSI1",
  cleanupIndexName: "GSI2",
};

/** A completed saga exactly as 0.2.2's `insert` + `update` left it (document-client values). */
const legacyItem = (overrides: Record<string, unknown> = {}): RawItem => ({
  PK: "OrderSaga",
  SK: "saga-1",
  sagaName: "OrderSaga",
  sagaId: "saga-1",
  correlationId: "order-42",
  version: 3,
  isCompleted: true,
  createdAt: "2024-05-01T10:00:00.000Z",
  updatedAt: "2024-05-02T23:30:00.000Z",
  GSI1PK: "OrderSaga",
  GSI1SK: "order-42",
  GSI2PK: "OrderSaga",
  GSI2SK: "2024-05-02T23:30:00.000Z",
  state: {
    // 0.2.2 copied the metadata into the state at every write; the top level wins.
    metadata: {
      sagaId: "saga-1",
      version: 2,
      createdAt: "2024-05-01T10:00:00.000Z",
      updatedAt: "2024-05-02T00:00:00.000Z",
      isCompleted: false,
      archivedAt: null,
      traceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      timeoutMs: 60000,
      timeoutExpiresAt: "2024-05-03T00:00:00.000Z",
    },
    orderId: "order-42",
    total: 99.5,
    placedAt: "2024-05-01T10:00:00.000Z",
    note: "2024-05-01",
    lines: [{ sku: "A-1", shippedAt: "2024-05-02T08:00:00.123Z" }],
  },
  ...overrides,
});

const right = <A>(either: E.Either<string, A>): A => {
  if (E.isLeft(either)) throw new Error(`expected Right, got Left: ${either.left}`);
  return either.right;
};

const left = <A>(either: E.Either<string, A>): string => {
  if (E.isRight(either)) throw new Error("expected Left, got Right");
  return either.left;
};

const withState = (state: Record<string, unknown>): RawItem =>
  legacyItem({ state: { ...(legacyItem().state as object), ...state } });

// ---------------------------------------------------------------------------------------------

describe("isLegacyItem", () => {
  it("recognises an item 0.2.2 wrote", () => {
    expect(isLegacyItem(legacyItem())).toBe(true);
  });

  it("does not take today's items for 0.2.2 ones", () => {
    const saga = { PK: "SAGA#OrderSaga", SK: "ID#saga-1", sagaName: "OrderSaga", state: "{}" };
    expect(isLegacyItem(saga)).toBe(false);
    expect(isLegacyItem({ PK: "SAGA#OrderSaga", SK: "CORR#order-42", sagaId: "saga-1" })).toBe(
      false,
    );
  });

  it("needs a map state, the bare saga name as PK, and a sort key without today's prefixes", () => {
    expect(isLegacyItem(legacyItem({ state: "{}" }))).toBe(false);
    expect(isLegacyItem(legacyItem({ state: ["a"] }))).toBe(false);
    expect(isLegacyItem(legacyItem({ PK: "Other" }))).toBe(false);
    expect(isLegacyItem(legacyItem({ SK: "ID#saga-1" }))).toBe(false);
    expect(isLegacyItem(legacyItem({ SK: "CORR#order-42" }))).toBe(false);
  });
});

describe("reviveIsoDate", () => {
  it("revives exactly what toISOString writes", () => {
    expect(reviveIsoDate("2024-05-02T08:00:00.123Z")).toEqual(
      new Date(Date.UTC(2024, 4, 2, 8, 0, 0, 123)),
    );
    expect(reviveIsoDate("0001-01-01T00:00:00.000Z")?.toISOString()).toBe(
      "0001-01-01T00:00:00.000Z",
    );
  });

  it.each([
    ["a date without time", "2024-05-02"],
    ["no milliseconds", "2024-05-02T08:00:00Z"],
    ["an offset", "2024-05-02T08:00:00.000+02:00"],
    ["a day that does not exist", "2024-02-30T00:00:00.000Z"],
    ["hour 24", "2024-05-02T24:00:00.000Z"],
    ["a six-digit year", "+010000-01-01T00:00:00.000Z"],
    ["surrounding text", " 2024-05-02T08:00:00.000Z"],
  ])("leaves %s a string", (_what, text) => {
    expect(reviveIsoDate(text)).toBeUndefined();
  });
});

describe("reviveDates", () => {
  it("revives at every depth and copies only what leads to a Date", () => {
    const untouched = { sku: "A-1", qty: 2 };
    const input = {
      at: "2024-05-01T10:00:00.000Z",
      untouched,
      nested: { list: [1, "2024-05-01T10:00:00.001Z", null, true] },
    };
    const output = reviveDates(input) as typeof input & {
      at: unknown;
      nested: { list: unknown[] };
    };
    expect(output).toEqual({
      at: new Date("2024-05-01T10:00:00.000Z"),
      untouched,
      nested: { list: [1, new Date("2024-05-01T10:00:00.001Z"), null, true] },
    });
    expect(output.untouched).toBe(untouched);
    expect(input.at).toBe("2024-05-01T10:00:00.000Z"); // the input is not changed
  });

  it("returns a value without dates as it is", () => {
    const input = { a: [1, { b: "x" }] };
    expect(reviveDates(input)).toBe(input);
  });

  it("keeps a key named __proto__ an own property", () => {
    const input = JSON.parse('{"__proto__": {"at": "2024-05-01T10:00:00.000Z"}}') as object;
    const output = reviveDates(input) as Record<string, unknown>;
    expect(Object.getPrototypeOf(output)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(output, "__proto__")?.value).toEqual({
      at: new Date("2024-05-01T10:00:00.000Z"),
    });
  });
});

describe("convertLegacyItem", () => {
  it("takes the metadata from the top level, the optional metadata from the state, and revives Dates", () => {
    expect(right(convertLegacyItem(legacyItem()))).toEqual({
      sagaName: "OrderSaga",
      correlationId: "order-42",
      state: {
        metadata: {
          sagaId: "saga-1",
          version: 3,
          createdAt: new Date("2024-05-01T10:00:00.000Z"),
          updatedAt: new Date("2024-05-02T23:30:00.000Z"),
          isCompleted: true,
          archivedAt: null,
          traceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
          timeoutMs: 60000,
          timeoutExpiresAt: new Date("2024-05-03T00:00:00.000Z"),
        },
        orderId: "order-42",
        total: 99.5,
        placedAt: new Date("2024-05-01T10:00:00.000Z"),
        note: "2024-05-01",
        lines: [{ sku: "A-1", shippedAt: new Date("2024-05-02T08:00:00.123Z") }],
      },
    });
  });

  it("keeps the application's date strings with reviveDates: false (metadata still becomes Dates)", () => {
    const saga = right(convertLegacyItem(legacyItem(), { reviveDates: false }));
    expect(saga.state).toMatchObject({
      placedAt: "2024-05-01T10:00:00.000Z",
      lines: [{ sku: "A-1", shippedAt: "2024-05-02T08:00:00.123Z" }],
    });
    expect(saga.state.metadata.timeoutExpiresAt).toEqual(new Date("2024-05-03T00:00:00.000Z"));
  });

  it("leaves absent optional metadata absent, also without state.metadata", () => {
    const { metadata } = right(
      convertLegacyItem(legacyItem({ state: { orderId: "order-42" } })),
    ).state;
    expect(Object.keys(metadata).sort()).toEqual(
      ["createdAt", "isCompleted", "sagaId", "updatedAt", "version"].sort(),
    );
  });

  it.each<[string, RawItem, string]>([
    [
      "a missing correlation id",
      legacyItem({ correlationId: undefined }),
      "correlationId must be a string, got undefined",
    ],
    [
      "a saga name with #",
      legacyItem({ PK: "Order#Saga", sagaName: "Order#Saga" }),
      'sagaName must not contain "#"',
    ],
    ["an empty saga id", legacyItem({ SK: "", sagaId: "" }), "sagaId must not be empty"],
    [
      "a version that is not a number",
      legacyItem({ version: "3" }),
      "version is string, not a non-negative integer",
    ],
    [
      "a negative version",
      legacyItem({ version: -1 }),
      "version is number, not a non-negative integer",
    ],
    ["a missing isCompleted", legacyItem({ isCompleted: undefined }), "isCompleted is undefined"],
    [
      "an updatedAt that is no date",
      legacyItem({ updatedAt: "yesterday" }),
      "updatedAt is not an ISO 8601 date as 0.2.2 wrote it",
    ],
    [
      "a metadata date that is no date",
      withState({ metadata: { archivedAt: 5 } }),
      "state.metadata.archivedAt is number, not a date",
    ],
    [
      "a trace parent that is no string",
      withState({ metadata: { traceParent: 1 } }),
      "state.metadata.traceParent is number",
    ],
    [
      "metadata that is not a map",
      withState({ metadata: "x" }),
      "state.metadata is string, not a map",
    ],
    [
      "a key that is not (sagaName, sagaId)",
      legacyItem({ SK: "saga-2" }),
      "the key (PK, SK) is not (sagaName, sagaId): not a 0.2.2 item",
    ],
    [
      "a sort key with today's prefix",
      legacyItem({ SK: "ID#saga-1", sagaId: "ID#saga-1" }),
      "the sort key starts with today's prefix ID# or CORR#",
    ],
    [
      "a state that is not a map",
      legacyItem({ state: "{}" }),
      "state is not a map: not a 0.2.2 item",
    ],
  ])("refuses %s, with the reason", (_what, item, reason) => {
    expect(left(convertLegacyItem(item))).toBe(reason);
  });
});

describe("prepareMigration", () => {
  it("refuses what today's store would refuse, with its message", () => {
    // The document client hands numbers above 2^53 back as BigInt.
    const reason = left(prepareMigration(TABLE, withState({ big: BigInt(2) ** BigInt(60) })));
    expect(reason).toContain("state.big is a bigint");
  });

  it("refuses a state whose item would exceed 400 KB", () => {
    const reason = left(prepareMigration(TABLE, withState({ blob: "x".repeat(400 * 1024) })));
    expect(reason).toMatch(/^today's item would be \d+ bytes, over DynamoDB's limit of 409600$/);
  });
});

describe("the transactions of one migration", () => {
  const prepared = right(prepareMigration(TABLE, legacyItem(), { ttlSeconds: 86400 }));
  /** The last action of convert and of finish: the 0.2.2 item goes, if still at the version read. */
  const DELETE_LEGACY_ITEM = {
    Delete: {
      TableName: "sagas",
      Key: { PK: "OrderSaga", SK: "saga-1" },
      ConditionExpression: "#version = :legacyVersion",
      ExpressionAttributeNames: { "#version": "version" },
      ExpressionAttributeValues: { ":legacyVersion": 3 },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    },
  };

  it("converts: today's saga item and correlation item if absent, the 0.2.2 item deleted at its version", () => {
    expect(
      convertInput(TABLE, prepared.saga, prepared.encoded, "put", { ttlSeconds: 86400 }),
    ).toEqual({
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
              version: 3,
              isCompleted: true,
              createdAt: "2024-05-01T10:00:00.000Z",
              updatedAt: "2024-05-02T23:30:00.000Z",
              archivedAt: null,
              traceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
              timeoutMs: 60000,
              timeoutExpiresAt: "2024-05-03T00:00:00.000Z",
              state:
                '{"orderId":"order-42","total":99.5,"placedAt":1714557600000,"note":"2024-05-01","lines":[{"sku":"A-1","shippedAt":1714636800123}]}',
              stateDates: '[["placedAt"],["lines",0,"shippedAt"]]',
              // Completed at its updatedAt, the day 0.2.2's cleanup index filed it under.
              completedAt: "2024-05-02T23:30:00.000Z",
              GSI2PK: "COMPLETED#2024-05-02",
              GSI2SK: "OrderSaga#saga-1",
              expiresAt: Date.UTC(2024, 4, 2, 23, 30) / 1000 + 86400,
            },
            ConditionExpression: "attribute_not_exists(PK)",
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
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
        DELETE_LEGACY_ITEM,
      ],
    });
  });

  it("converts with a correlation item that already names the saga: checks it instead", () => {
    const input = convertInput(TABLE, prepared.saga, prepared.encoded, "confirm");
    expect(input.TransactItems?.[1]).toEqual({
      ConditionCheck: {
        TableName: "sagas",
        Key: { PK: "SAGA#OrderSaga", SK: "CORR#order-42" },
        ConditionExpression: "sagaId = :sagaId",
        ExpressionAttributeValues: { ":sagaId": "saga-1" },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      },
    });
  });

  it("finishes a saga already migrated: the 0.2.2 item goes only while today's is not behind", () => {
    expect(finishInput(TABLE, prepared.saga)).toEqual({
      TransactItems: [
        {
          ConditionCheck: {
            TableName: "sagas",
            Key: { PK: "SAGA#OrderSaga", SK: "ID#saga-1" },
            ConditionExpression: "#version >= :legacyVersion",
            ExpressionAttributeNames: { "#version": "version" },
            ExpressionAttributeValues: { ":legacyVersion": 3 },
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          },
        },
        DELETE_LEGACY_ITEM,
      ],
    });
  });

  it("an active saga gets no completion attributes", () => {
    const active = right(prepareMigration(TABLE, legacyItem({ isCompleted: false })));
    const item = convertInput(TABLE, active.saga, active.encoded, "put").TransactItems?.[0]?.Put
      ?.Item;
    expect(item).not.toHaveProperty("GSI2PK");
    expect(item).not.toHaveProperty("completedAt");
    expect(item).not.toHaveProperty("expiresAt");
  });
});

describe("planMigration", () => {
  it("converts when nothing of the saga is in today's layout", () => {
    expect(planMigration("saga-1", 3, {})).toEqual({ kind: "convert", correlation: "put" });
  });

  it("only checks a correlation item that already names the saga", () => {
    expect(planMigration("saga-1", 3, { correlationHolder: "saga-1" })).toEqual({
      kind: "convert",
      correlation: "confirm",
    });
  });

  it("finishes when today's saga item is at the 0.2.2 version or later", () => {
    expect(planMigration("saga-1", 3, { sagaVersion: 3 })).toEqual({ kind: "finish" });
    expect(planMigration("saga-1", 3, { sagaVersion: 7 })).toEqual({ kind: "finish" });
  });

  it("skips, overwriting nothing, when today's item is behind or another saga holds the correlation id", () => {
    expect(planMigration("saga-1", 3, { sagaVersion: 2 })).toEqual({
      kind: "skip",
      reason: "today's saga item exists at version 2, behind the 0.2.2 item's version 3",
    });
    expect(planMigration("saga-1", 3, { correlationHolder: "saga-9" })).toEqual({
      kind: "skip",
      reason: 'the correlation id is reserved by another saga (id "saga-9")',
    });
  });
});

describe("readCancellation", () => {
  const none = { Code: "None" };
  const failedWith = (Item?: Record<string, unknown>) => ({
    Code: "ConditionalCheckFailed",
    ...(Item === undefined ? {} : { Item }),
  });
  const convert = { kind: "convert", correlation: "put" } as const;

  it("reads today's saga version and the correlation holder from the returned items", () => {
    expect(
      readCancellation(
        convert,
        "saga-1",
        [failedWith({ version: { N: "4" } }), failedWith({ sagaId: { S: "saga-1" } }), none],
        {},
      ),
    ).toEqual({
      existing: { sagaVersion: 4, correlationHolder: "saga-1" },
      legacy: "unchanged",
    });
  });

  it("tells a changed 0.2.2 item from one that is gone", () => {
    const changed = readCancellation(
      convert,
      "saga-1",
      [none, none, failedWith({ version: { N: "4" } })],
      {},
    );
    expect(changed).toEqual({ existing: {}, legacy: "changed" });
    const gone = readCancellation(convert, "saga-1", [none, none, failedWith()], {});
    expect(gone.legacy).toBe("gone");
  });

  it("a confirmed correlation item that held names the saga; one that failed and is gone does not", () => {
    const confirm = { kind: "convert", correlation: "confirm" } as const;
    expect(readCancellation(confirm, "saga-1", [none, none, failedWith()], {}).existing).toEqual({
      sagaVersion: undefined,
      correlationHolder: "saga-1",
    });
    expect(readCancellation(confirm, "saga-1", [none, failedWith(), none], {}).existing).toEqual({
      sagaVersion: undefined,
      correlationHolder: undefined,
    });
  });

  it("finish: a failed check returns today's version (or nothing, if it is gone)", () => {
    const finish = { kind: "finish" } as const;
    const before = { sagaVersion: 5 };
    expect(
      readCancellation(finish, "saga-1", [failedWith({ version: { N: "2" } }), none], before),
    ).toEqual({
      existing: { sagaVersion: 2 },
      legacy: "unchanged",
    });
    expect(readCancellation(finish, "saga-1", [failedWith(), none], before).existing).toEqual({
      sagaVersion: undefined,
    });
    expect(readCancellation(finish, "saga-1", [none, failedWith()], before)).toEqual({
      existing: before,
      legacy: "gone",
    });
  });
});

describe("reads", () => {
  it("scans for map states only, strongly consistent, by segment", () => {
    expect(legacyScanInput(TABLE, { index: 1, total: 4 }, { PK: "a", SK: "b" })).toEqual({
      TableName: "sagas",
      ConsistentRead: true,
      FilterExpression: "attribute_type(#state, :map)",
      ExpressionAttributeNames: { "#state": "state" },
      ExpressionAttributeValues: { ":map": "M" },
      Segment: 1,
      TotalSegments: 4,
      ExclusiveStartKey: { PK: "a", SK: "b" },
    });
  });

  it("reads a 0.2.2 item by its bare key", () => {
    const saga: LegacySaga = right(convertLegacyItem(legacyItem()));
    expect(getLegacyInput(TABLE, saga.sagaName, saga.state.metadata.sagaId)).toEqual({
      TableName: "sagas",
      Key: { PK: "OrderSaga", SK: "saga-1" },
      ConsistentRead: true,
    });
  });
});
