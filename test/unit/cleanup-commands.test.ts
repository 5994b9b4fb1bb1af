/**
 * The cleanup's command inputs (the cutoff string, `RETURNING ALL OLD *`) and how its answers
 * are counted: only a saga delete that returned the old item deleted something.
 */
import { BatchExecuteStatementCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { createDynamoDBSagaStore, type StoreCommand } from "../../src";
import {
  cleanupScanInput,
  cutoffString,
  deleteCompletedSagasInput,
  deleteCorrelationsInput,
} from "../../src/commands";
import { NAME, TABLE } from "../support/unit-states";

/** The largest valid Date: year 275760, "+275760-09-13T00:00:00.000Z". */
const LAST_DATE = new Date(8.64e15);
const END_OF_YEAR_9999 = "9999-12-31T24:00:00.000Z";

describe("cutoffString", () => {
  it("is the ISO string of a cutoff in a 4-digit year", () => {
    expect(cutoffString(new Date("2024-04-01T00:00:00.000Z"))).toBe("2024-04-01T00:00:00.000Z");
    expect(cutoffString(new Date("9999-12-31T23:59:59.999Z"))).toBe("9999-12-31T23:59:59.999Z");
    expect(cutoffString(new Date("0000-01-01T00:00:00.000Z"))).toBe("0000-01-01T00:00:00.000Z");
  });

  it("clamps a cutoff after year 9999 to a string above every 4-digit-year ISO string", () => {
    expect(LAST_DATE.toISOString()).toBe("+275760-09-13T00:00:00.000Z");
    expect(cutoffString(LAST_DATE)).toBe(END_OF_YEAR_9999);
    expect(cutoffString(new Date(Date.UTC(10000, 0, 1)))).toBe(END_OF_YEAR_9999);
    expect("9999-12-31T23:59:59.999Z" < END_OF_YEAR_9999).toBe(true);
  });

  it("leaves a cutoff before year 0 as it is: it sorts below every stored completedAt", () => {
    expect(cutoffString(new Date(Date.UTC(-1, 0, 1)))).toBe("-000001-01-01T00:00:00.000Z");
    expect("0000-01-01T00:00:00.000Z" < cutoffString(new Date(Date.UTC(-1, 0, 1)))).toBe(false);
  });

  it("compares with a stored completedAt as the dates compare (any cutoff)", () => {
    const stored = fc.date({
      min: new Date("0000-01-01T00:00:00.000Z"),
      max: new Date("9999-12-31T23:59:59.999Z"),
      noInvalidDate: true,
    });
    const cutoff = fc.oneof(
      fc.date({ noInvalidDate: true }),
      stored,
      fc.constantFrom(LAST_DATE, new Date(-8.64e15), new Date(Date.UTC(10000, 0, 1))),
    );
    fc.assert(
      fc.property(stored, cutoff, (completedAt, before) => {
        // DynamoDB compares strings byte by byte; these are ASCII, so JS's < agrees.
        expect(completedAt.toISOString() < cutoffString(before)).toBe(completedAt < before);
      }),
    );
  });
});

describe("cleanup command inputs", () => {
  const victims = [
    { sagaId: "a", correlationId: "ca" },
    { sagaId: "b#1", correlationId: "cb" },
  ];

  it("scans with the clamped cutoff", () => {
    expect(cleanupScanInput(TABLE, NAME, LAST_DATE, { index: 0, total: 4 }, undefined)).toEqual({
      TableName: "sagas",
      IndexName: "GSI2",
      FilterExpression: "begins_with(GSI2SK, :prefix) AND completedAt < :before",
      ExpressionAttributeValues: { ":prefix": "OrderSaga#", ":before": END_OF_YEAR_9999 },
      ProjectionExpression: "sagaId, correlationId",
      Segment: 0,
      TotalSegments: 4,
    });
  });

  it("deletes each saga with RETURNING ALL OLD *, compared with the clamped cutoff", () => {
    const statement =
      'DELETE FROM "sagas" WHERE PK = ? AND SK = ? AND isCompleted = ? AND completedAt < ? RETURNING ALL OLD *';
    expect(deleteCompletedSagasInput(TABLE, NAME, victims, LAST_DATE)).toEqual({
      Statements: [
        { Statement: statement, Parameters: ["SAGA#OrderSaga", "ID#a", true, END_OF_YEAR_9999] },
        { Statement: statement, Parameters: ["SAGA#OrderSaga", "ID#b#1", true, END_OF_YEAR_9999] },
      ],
    });
  });

  it("deletes correlation items without asking for them back", () => {
    expect(deleteCorrelationsInput(TABLE, NAME, victims)).toEqual({
      Statements: [
        {
          Statement: 'DELETE FROM "sagas" WHERE PK = ? AND SK = ? AND sagaId = ?',
          Parameters: ["SAGA#OrderSaga", "CORR#ca", "a"],
        },
        {
          Statement: 'DELETE FROM "sagas" WHERE PK = ? AND SK = ? AND sagaId = ?',
          Parameters: ["SAGA#OrderSaga", "CORR#cb", "b#1"],
        },
      ],
    });
  });
});

describe("deleteCompletedBefore counting", () => {
  it("counts only saga deletes that returned the item; a saga already gone still loses its correlation item", async () => {
    const found = ["s0", "s1", "s2", "s3"].map((id) => ({ sagaId: id, correlationId: `c-${id}` }));
    // s1 was gone already (success, no item); s3 was reopened (failed condition).
    const answerFor = (sortKey: string) => {
      if (sortKey === "ID#s1") return { TableName: "sagas" };
      if (sortKey === "ID#s3") {
        return { TableName: "sagas", Error: { Code: "ConditionalCheckFailed", Message: "no" } };
      }
      if (sortKey.startsWith("ID#")) return { TableName: "sagas", Item: { SK: sortKey } };
      return { TableName: "sagas" };
    };
    const batches: string[][] = [];
    const send = async (command: StoreCommand): Promise<unknown> => {
      if (command instanceof ScanCommand) {
        return { Items: command.input.Segment === 0 ? found : [] };
      }
      if (command instanceof BatchExecuteStatementCommand) {
        const sortKeys = command.input.Statements!.map((s) => s.Parameters![1] as string);
        batches.push(sortKeys);
        return { Responses: sortKeys.map(answerFor) };
      }
      throw new Error(`unexpected ${command.constructor.name}`);
    };
    const store = createDynamoDBSagaStore({ send, tableName: "sagas" });
    const onProgress = jest.fn();

    expect(await store.deleteCompletedBefore(NAME, LAST_DATE, { onProgress })).toBe(2);
    expect(onProgress.mock.calls).toEqual([[{ deleted: 2, scanned: 4 }]]);
    expect(batches).toEqual([
      ["ID#s0", "ID#s1", "ID#s2", "ID#s3"],
      ["CORR#c-s0", "CORR#c-s1", "CORR#c-s2"],
    ]);
  });
});

// 0.2.2's cleanup index is KEYS_ONLY: DynamoDB refuses to read what it does not project.
it("a cleanup index that does not project what cleanup reads is a ConfigurationError naming the fix", async () => {
  const send = async (command: StoreCommand): Promise<unknown> => {
    if (command instanceof ScanCommand) {
      throw Object.assign(
        new Error(
          "One or more parameter values were invalid: Global secondary index GSI2 does not project [completedAt, sagaId, correlationId]",
        ),
        { name: "ValidationException", $metadata: { httpStatusCode: 400 } },
      );
    }
    throw new Error(`unexpected ${command.constructor.name}`);
  };
  const store = createDynamoDBSagaStore({ send, tableName: "sagas" });
  await expect(store.deleteCompletedBefore(NAME, LAST_DATE)).rejects.toMatchObject({
    name: "ConfigurationError",
    code: "table.invalid",
    message: expect.stringContaining("--replace-indexes"),
  });
});
