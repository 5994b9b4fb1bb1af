/**
 * Tables made the 0.2.2 way, on DynamoDB Local: `createTable(client, getTableSchema(name))`,
 * and a table with 0.2.2's KEYS_ONLY cleanup index, which `ensureTable` replaces when asked.
 */
import { CreateTableCommand, DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import {
  createDynamoDBSagaStore,
  createTable,
  ensureTable,
  getTableSchema,
  sendVia,
  waitForTable,
} from "../../src";
import { ownTables } from "../support/local-table";
import { nextVersion, orderState, type OrderState } from "../support/states";

const { client, newTableName: freshName } = ownTables();

it("createTable(client, getTableSchema(name)) creates the table the store needs", async () => {
  const tableName = freshName("schema");
  await createTable(client, getTableSchema(tableName));
  expect(await ensureTable(client, { tableName })).toEqual([]);
});

/**
 * The table 0.2.2's `createTable` makes (provisioned 5/5, correlation index ALL, cleanup
 * index KEYS_ONLY), or with `keepCleanupIndex` the one 0.3.0 made (cleanup index INCLUDE).
 */
const legacyTable = async (tableName: string, keepCleanupIndex = false) => {
  const schema = getTableSchema(tableName, {
    billingMode: "PROVISIONED",
    provisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
  });
  await client.send(
    new CreateTableCommand({
      ...schema,
      GlobalSecondaryIndexes: schema.GlobalSecondaryIndexes!.map((index) =>
        index.IndexName === "GSI2"
          ? keepCleanupIndex
            ? index
            : { ...index, Projection: { ProjectionType: "KEYS_ONLY" } }
          : { ...index, Projection: { ProjectionType: "ALL" } },
      ),
    }),
  );
  await waitForTable(client, tableName);
};

it("0.2.2's indexes: a KEYS_ONLY cleanup index is refused by ensureTable and by cleanup; both indexes replaced when asked", async () => {
  const tableName = freshName("keys-only");
  await legacyTable(tableName);
  const store = createDynamoDBSagaStore<OrderState>({
    send: sendVia(DynamoDBDocumentClient.from(client)),
    tableName,
  });
  const state = orderState(`order-${randomUUID()}`);
  await store.insert("OrderSaga", state.orderId, state);
  const done = nextVersion(
    state,
    {},
    { isCompleted: true, updatedAt: new Date(Date.UTC(2026, 0, 1)) },
  );
  await store.update("OrderSaga", done, 0);

  await expect(ensureTable(client, { tableName })).rejects.toMatchObject({
    code: "table.invalid",
    message: expect.stringContaining("replaceIndexes"),
  });
  // Not a silent 0: the index cannot tell which sagas completed when.
  const refused: unknown = await store
    .deleteCompletedBefore("OrderSaga", new Date())
    .catch((e: unknown) => e);
  expect(refused).toMatchObject({ code: "table.invalid" });

  expect(await ensureTable(client, { tableName, replaceIndexes: true })).toEqual([
    {
      kind: "deletedIndex",
      indexName: "GSI1",
      reason: "it projected ALL, more than KEYS_ONLY",
    },
    {
      kind: "deletedIndex",
      indexName: "GSI2",
      reason: "it did not project sagaId, correlationId, completedAt",
    },
    { kind: "createdIndex", indexName: "GSI1" },
    { kind: "createdIndex", indexName: "GSI2" },
  ]);
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  expect(Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === "GSI2")).toMatchObject({
    IndexStatus: "ACTIVE",
    Projection: getTableSchema(tableName).GlobalSecondaryIndexes![1]!.Projection,
    // The table's own capacity, as it is provisioned.
    ProvisionedThroughput: expect.objectContaining({ ReadCapacityUnits: 5, WriteCapacityUnits: 5 }),
  });
  expect(await ensureTable(client, { tableName })).toEqual([]);
  // The rebuilt index holds the saga completed before the replacement.
  expect(await store.deleteCompletedBefore("OrderSaga", new Date())).toBe(1);
});

it("0.3.0's correlation index (ALL) is served as it is, and replaced only when asked", async () => {
  const tableName = freshName("over");
  await legacyTable(tableName, true);
  expect(await ensureTable(client, { tableName })).toEqual([]);
  expect(await ensureTable(client, { tableName, replaceIndexes: true })).toEqual([
    { kind: "deletedIndex", indexName: "GSI1", reason: "it projected ALL, more than KEYS_ONLY" },
    { kind: "createdIndex", indexName: "GSI1" },
  ]);
});
