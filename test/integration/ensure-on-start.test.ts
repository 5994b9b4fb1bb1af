/** The store's opt-in `ensureTable`: the table is made ready before the first request. */
import { DescribeTableCommand, DescribeTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { randomUUID } from "node:crypto";
import { createDynamoDBSagaStore, DynamoDBSagaStore, ensureTableFirst, sendVia } from "../../src";
import { ownTables } from "../support/local-table";
import { orderState, type OrderState } from "../support/states";

const { client, docClient, newTableName } = ownTables();
const freshName = () => newTableName("ensure");

it("functional store: creates the missing table (with TTL) before its first request, once", async () => {
  const tableName = freshName();
  const store = createDynamoDBSagaStore<OrderState>({
    send: sendVia(docClient),
    tableName,
    ensureTable: ensureTableFirst(client, { ttl: true }),
  });
  const state = orderState("ensure-1");
  // Concurrent first calls share one ensureTable.
  await Promise.all([store.insert("Ensure", "ensure-1", state), store.getById("Ensure", "nope")]);
  expect((await store.getByCorrelationId("Ensure", "ensure-1"))?.metadata.sagaId).toBe(
    state.metadata.sagaId,
  );

  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual(["GSI1", "GSI2"]);
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  expect(ttl.TimeToLiveDescription?.AttributeName).toBe("expiresAt");
});

it("class: the ensure step works through the document client alone", async () => {
  const tableName = freshName();
  const store = new DynamoDBSagaStore<OrderState>({
    client: docClient,
    tableName,
    ensureTable: ensureTableFirst(docClient),
  });
  const state = orderState("ensure-2");
  await store.insert("Ensure", "ensure-2", state);
  expect((await store.getById("Ensure", state.metadata.sagaId))?.orderId).toBe("ensure-2");
});

it("without the option, a missing table is an error and nothing is created", async () => {
  const tableName = `ensure-${randomUUID()}`;
  const store = createDynamoDBSagaStore<OrderState>({ send: sendVia(docClient), tableName });
  await expect(store.getById("Ensure", "x")).rejects.toMatchObject({ code: "request.failed" });
  await expect(
    client.send(new DescribeTableCommand({ TableName: tableName })),
  ).rejects.toMatchObject({
    name: "ResourceNotFoundException",
  });
});
