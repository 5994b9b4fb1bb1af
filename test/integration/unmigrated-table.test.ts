/**
 * A store of this version on a table that still holds sagas written by 0.2.2 (its own packed
 * code, with the stand-in core) never starts a second saga for one of them: under the
 * saga-bus-like loop, each message for an in-flight 0.2.2 saga fails with UnmigratedTableError
 * (naming `migrate`), and the table gains no saga of today's layout. (migrate.test.ts shows
 * the same sagas driven on after `migrate`.)
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import { createDynamoDBSagaStore, deleteTable, sendVia, UnmigratedTableError } from "../../src";
import { LOCAL_CLIENT_CONFIG } from "../../scripts/dynamodb-local";
import { buildWorkload } from "../../workload/deliveries";
import { runMessageLoop } from "../../workload/message-loop";
import { orderSaga, SAGA_NAME, type OrderState } from "../../workload/order-saga";
import { loadSeed022 } from "../support/seed-022";

let client: DynamoDBClient;
let docClient: DynamoDBDocumentClient;
const tableName = `unmigrated-${randomUUID()}`;

beforeAll(async () => {
  client = new DynamoDBClient({ ...LOCAL_CLIENT_CONFIG, endpoint: process.env.DYNAMODB_ENDPOINT });
  docClient = DynamoDBDocumentClient.from(client);
  const seed = loadSeed022();
  await seed.createTable(client, seed.getTableSchema(tableName));
  // 0.2.2 starts ten orders: their first message applied, the rest still to come.
  const old = new seed.DynamoDBSagaStore({ client: docClient, tableName });
  const { deliveries } = buildWorkload({ orders: 10, seed: 22 });
  for (const message of deliveries.filter((m) => m.type === "OrderPlaced")) {
    const now = new Date();
    const state = orderSaga.initialState(message, {
      sagaId: randomUUID(),
      version: 0,
      createdAt: now,
      updatedAt: now,
      isCompleted: false,
    });
    await old.insert(SAGA_NAME, message.orderId, state);
  }
});
afterAll(async () => {
  await deleteTable(client, tableName);
  client.destroy();
});

const todaysSagas = async () =>
  ((await docClient.send(new ScanCommand({ TableName: tableName }))).Items ?? []).filter((item) =>
    String(item.SK).startsWith("ID#"),
  );

it("never starts a second saga for a 0.2.2 saga: every message fails with UnmigratedTableError", async () => {
  const store = createDynamoDBSagaStore<OrderState>({ send: sendVia(docClient), tableName });
  const { deliveries } = buildWorkload({ orders: 10, seed: 22 });
  const stats = await runMessageLoop({
    store,
    definition: orderSaga,
    deliveries,
    concurrency: 4,
    retry: { maxAttempts: 1, maxRequeues: 0, maxDeadLetters: 1000 },
  });
  expect(stats.sagasStarted).toBe(0);
  expect(stats.applied).toBe(0);
  expect(stats.deadLettered.length).toBe(deliveries.length);
  expect(stats.deadLettered.every((d) => /UnmigratedTableError/.test(d.reason))).toBe(true);
  expect(stats.deadLettered[0]!.reason).toContain(
    `saga-store-dynamodb migrate --table ${tableName}`,
  );
  expect(await todaysSagas()).toEqual([]);

  const direct = await store
    .getByCorrelationId(SAGA_NAME, deliveries[0]!.orderId)
    .catch((e: unknown) => e);
  expect(direct).toBeInstanceOf(UnmigratedTableError);
});
