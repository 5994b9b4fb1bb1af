/**
 * Sixteen shards per saga name, on DynamoDB Local: the table records its layout and refuses
 * stores and `ensureTable` calls of another count; under the saga-bus-like loop every saga
 * completes, and no partition key of the table or of either index holds more than 2/16 of the
 * saga type's items; cleanup still finds every completed saga.
 */
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import {
  createDynamoDBSagaStore,
  createTable,
  ensureTable,
  getTableSchema,
  sendVia,
  waitForTable,
  type Send,
} from "../../src";
import { runCli } from "../support/cli";
import { buildWorkload } from "../../workload/deliveries";
import { runMessageLoop } from "../../workload/message-loop";
import { orderSaga, SAGA_NAME, type OrderState } from "../../workload/order-saga";
import { localEndpoint, ownTables } from "../support/local-table";

const SHARDS = 16;
const { client, docClient, newTableName } = ownTables();
const freshTable = async (shards?: number) => {
  const tableName = newTableName("sharded");
  await createTable(client, { tableName, ...(shards === undefined ? {} : { shards }) });
  return tableName;
};

const scanAll = async (tableName: string, indexName?: string) => {
  const items: Array<Record<string, unknown>> = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await docClient.send(
      new ScanCommand({
        TableName: tableName,
        ...(indexName === undefined ? {} : { IndexName: indexName }),
        ExclusiveStartKey,
      }),
    );
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey !== undefined);
  return items;
};

/** The largest share of `items` under one value of `key`. */
const largestShare = (items: ReadonlyArray<Record<string, unknown>>, key: string) => {
  const counts = new Map<unknown, number>();
  for (const item of items) counts.set(item[key], (counts.get(item[key]) ?? 0) + 1);
  return { share: Math.max(...counts.values()) / items.length, keys: counts.size };
};

it("the table records its shards; ensureTable with another count is refused", async () => {
  const tableName = await freshTable(SHARDS);
  expect(await ensureTable(client, { tableName, shards: SHARDS })).toEqual([]);
  for (const shards of [1, 8]) {
    await expect(ensureTable(client, { tableName, shards })).rejects.toMatchObject({
      code: "table.invalid",
      message: expect.stringContaining(`laid out with shards: ${SHARDS}, not ${shards}`),
    });
  }
});

it("a store with another shard count refuses the table at its first miss, before any write", async () => {
  const tableName = await freshTable(SHARDS);
  for (const shards of [1, 8]) {
    const store = createDynamoDBSagaStore({ send: sendVia(docClient), tableName, shards });
    await expect(store.getByCorrelationId("OrderSaga", "o-1")).rejects.toMatchObject({
      code: "table.invalid",
      message: expect.stringContaining(`laid out with shards: ${SHARDS}`),
    });
  }
  const right = createDynamoDBSagaStore({ send: sendVia(docClient), tableName, shards: SHARDS });
  expect(await right.getByCorrelationId("OrderSaga", "o-1")).toBeNull();
});

/** Runs the command-line tool in-process on DynamoDB Local. */
const cli = async (args: readonly string[]) => {
  const saved = { ...process.env };
  // DynamoDB Local checks no credentials, but the SDK needs some to sign requests.
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local" });
  try {
    return await runCli(["--endpoint", localEndpoint(), "--region", "local", ...args]);
  } finally {
    process.env = saved;
  }
};

// CloudFormation and CDK create the schema, not the marker item that records the count.
it("a table from CloudFormation/CDK: the sharded store says how to record the count, describe --shards sees it missing, ensure --shards records it", async () => {
  const tableName = newTableName("iac");
  await client.send(new CreateTableCommand(getTableSchema(tableName)));
  await waitForTable(client, tableName);
  const store = createDynamoDBSagaStore({ send: sendVia(docClient), tableName, shards: SHARDS });
  await expect(store.getByCorrelationId("OrderSaga", "o-1")).rejects.toMatchObject({
    code: "table.invalid",
    message: expect.stringContaining(`table ensure --shards ${SHARDS}`),
  });

  const before = await cli(["--table", tableName, "table", "describe", "--shards", "16", "--json"]);
  expect(before.code).toBe(3);
  expect(JSON.parse(before.stdout)).toMatchObject({
    shards: { recorded: 1, expected: SHARDS },
    store: { ready: false },
  });
  const ensured = await cli(["--table", tableName, "table", "ensure", "--shards", "16"]);
  expect(ensured).toMatchObject({
    code: 0,
    stdout: `recorded the layout: ${SHARDS} shards per saga name\n`,
  });
  const after = await cli(["--table", tableName, "table", "describe", "--shards", "16"]);
  expect(after.code).toBe(0);
  expect(after.stdout).toMatch(/^shards\s+16 recorded, 16 expected$/m);
  // A default store on it is refused now, and says so.
  expect((await cli(["--table", tableName, "table", "describe"])).code).toBe(3);
  expect(await store.getByCorrelationId("OrderSaga", "o-1")).toBeNull();
});

it("ensureTable will not shard a table that already holds sagas of the default layout", async () => {
  const tableName = await freshTable();
  const store = createDynamoDBSagaStore({ send: sendVia(docClient), tableName });
  await store.insert("OrderSaga", "o-1", {
    metadata: {
      sagaId: "s-1",
      version: 0,
      createdAt: new Date(),
      updatedAt: new Date(),
      isCompleted: false,
    },
  });
  await expect(ensureTable(client, { tableName, shards: SHARDS })).rejects.toMatchObject({
    code: "table.invalid",
  });
  // An empty default table can take the layout.
  const empty = await freshTable();
  expect(await ensureTable(client, { tableName: empty, shards: SHARDS })).toEqual([
    { kind: "recordedLayout", shards: SHARDS },
  ]);
});

it(`under the saga-bus-like loop, ${SHARDS} shards complete every saga and no partition key holds more than 2/${SHARDS} of the type's items`, async () => {
  const tableName = await freshTable(SHARDS);
  const store = createDynamoDBSagaStore<OrderState>({
    send: sendVia(docClient),
    tableName,
    shards: SHARDS,
  });
  const workload = buildWorkload({ orders: 320, seed: 16 });
  const stats = await runMessageLoop({
    store,
    definition: orderSaga,
    deliveries: workload.deliveries,
    concurrency: 16,
    retry: { maxAttempts: 20, maxRequeues: 20, maxDeadLetters: 10 },
  });
  expect(stats.deadLettered).toEqual([]);
  expect(stats.sagasStarted).toBe(320);

  const items = await scanAll(tableName);
  const sagas = items.filter((i) => String(i.SK).startsWith("ID#"));
  const correlations = items.filter((i) => String(i.SK).startsWith("CORR#"));
  expect(sagas).toHaveLength(320);
  expect(correlations).toHaveLength(320);
  const limit = 2 / SHARDS;
  for (const [what, rows, key] of [
    ["saga items by PK", sagas, "PK"],
    ["correlation items by PK", correlations, "PK"],
    ["correlation index entries by GSI1PK", sagas, "GSI1PK"],
  ] as const) {
    const { share, keys } = largestShare(rows, key);
    expect({ what, keys }).toEqual({ what, keys: SHARDS });
    expect({ what, share: share <= limit }).toEqual({ what, share: true });
  }
  const completed = await scanAll(tableName, "GSI2");
  expect(completed.length).toBeGreaterThan(0);
  // Per day, the completions spread over the shards the same way.
  const byDay = new Map<string, Array<Record<string, unknown>>>();
  for (const entry of completed) {
    const day = String(entry.GSI2PK).split("#")[1]!;
    byDay.set(day, [...(byDay.get(day) ?? []), entry]);
  }
  for (const entries of byDay.values()) {
    if (entries.length < 100) continue; // too few to judge a spread
    expect(largestShare(entries, "GSI2PK").share).toBeLessThanOrEqual(limit);
  }

  // Listing reads the 16 partitions and finds every saga; cleanup finds every completed one.
  let listed = 0;
  for await (const saga of store.findAllByName(SAGA_NAME)) listed += saga ? 1 : 0;
  expect(listed).toBe(320);
  const deleted = await store.deleteCompletedBefore(SAGA_NAME, new Date(8.64e15));
  expect(deleted).toBe(stats.sagasCompleted);
});

// The merge counts on DynamoDB's Query semantics (Limit counts items evaluated before the
// filter; ScannedCount says how many): checked here on DynamoDB Local, not only on the fake of
// test/unit/sharded-listing.test.ts.
it("sharded listing on DynamoDB Local: a filter few sagas pass, every match once in id order, each page within its read budget", async () => {
  const tableName = await freshTable(SHARDS);
  const scanned: number[] = [];
  const counting: Send = async (command) => {
    const out = await sendVia(docClient)(command);
    const count = (out as { ScannedCount?: number }).ScannedCount;
    if (typeof count === "number") scanned.push(count);
    return out;
  };
  const store = createDynamoDBSagaStore({ send: counting, tableName, shards: SHARDS });
  const ids = Array.from({ length: 300 }, (_, i) => `saga-${String(i).padStart(3, "0")}`);
  const completed = new Set(ids.filter((_, i) => i % 20 === 7));
  const at = new Date("2026-11-01T00:00:00Z");
  await Promise.all(
    ids.map((sagaId) =>
      store.insert("Listed", `c-${sagaId}`, {
        metadata: {
          sagaId,
          version: 0,
          createdAt: at,
          updatedAt: at,
          isCompleted: completed.has(sagaId),
        },
      }),
    ),
  );
  const limit = 4;
  const seen: string[] = [];
  let startKey: string | undefined;
  do {
    scanned.length = 0;
    const page = await store.findByName("Listed", { limit, completed: true, startKey });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    // The budget (2 × limit + N) and at most one item more for each shard of the last round.
    expect(scanned.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2 * limit + 2 * SHARDS);
    seen.push(...page.items.map((saga) => saga.metadata.sagaId));
    startKey = page.lastKey;
  } while (startKey !== undefined);
  expect(seen).toEqual([...completed].sort());
});
