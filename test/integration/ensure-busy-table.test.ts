/**
 * The store's ensure step on a table that is busy with something else: DynamoDB Local never
 * shows one (its tables and indexes are ACTIVE at once), so its DescribeTable answers are
 * rewritten on the way back, the requests themselves reaching DynamoDB Local.
 */
import { DescribeTableCommand, type DescribeTableCommandOutput } from "@aws-sdk/client-dynamodb";
import { randomUUID } from "node:crypto";
import {
  createDynamoDBSagaStore,
  createTable,
  ensureTableFirst,
  sendVia,
  TransientError,
  type TableClient,
} from "../../src";
import { ownTables } from "../support/local-table";
import { orderState, type OrderState } from "../support/states";

const { client, docClient, newTableName } = ownTables();
const tableName = newTableName("busy");

beforeAll(() => createTable(client, { tableName }));

/** `client`, with every DescribeTable answer passed through `rewrite`; counts them. */
const describedAs = (
  rewrite: (table: NonNullable<DescribeTableCommandOutput["Table"]>) => void,
) => {
  const seen = { describes: 0 };
  const wrapped: TableClient = {
    send: async (command) => {
      const out: unknown = await client.send(command as DescribeTableCommand);
      if (command instanceof DescribeTableCommand) {
        seen.describes += 1;
        const table = (out as DescribeTableCommandOutput).Table;
        if (table !== undefined) rewrite(table);
      }
      return out;
    },
  };
  return { wrapped, seen };
};

const storeWith = (tableClient: TableClient) =>
  createDynamoDBSagaStore<OrderState>({
    send: sendVia(docClient),
    tableName,
    ensureTable: ensureTableFirst(tableClient, { maxWaitSeconds: 1 }),
  });

it("a table UPDATING while another application's index backfills is served at once", async () => {
  const { wrapped, seen } = describedAs((table) => {
    table.TableStatus = "UPDATING";
    table.GlobalSecondaryIndexes = [
      // The store's own index changing capacity serves as well.
      ...(table.GlobalSecondaryIndexes ?? []).map((index) =>
        index.IndexName === "GSI1" ? { ...index, IndexStatus: "UPDATING" as const } : index,
      ),
      { IndexName: "SomeoneElses", IndexStatus: "CREATING", Backfilling: true },
    ];
  });
  const store = storeWith(wrapped);
  const state = orderState(`busy-${randomUUID()}`);
  const started = Date.now();
  await store.insert("Busy", state.orderId, state);
  // Before: the step waited for every index to be ACTIVE, then failed after maxWaitSeconds.
  expect(Date.now() - started).toBeLessThan(1000);
  expect((await store.getById("Busy", state.metadata.sagaId))?.orderId).toBe(state.orderId);
  expect(seen.describes).toBeGreaterThan(0);
});

it("a table still being created is waited for; running out of time is a TransientError, tried again", async () => {
  let creating = true;
  const { wrapped } = describedAs((table) => {
    if (creating) table.TableStatus = "CREATING";
  });
  const store = storeWith(wrapped);
  const error: unknown = await store.getById("Busy", "saga-1").catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TransientError);
  expect((error as Error).message).toContain("did not become ACTIVE within 1s");
  creating = false;
  await expect(store.getById("Busy", "saga-1")).resolves.toBeNull();
});

it("the store's own index still being built is waited for (table ensure must not report it complete)", async () => {
  let building = true;
  const { wrapped } = describedAs((table) => {
    for (const index of table.GlobalSecondaryIndexes ?? []) {
      if (building && index.IndexName === "GSI2") index.IndexStatus = "CREATING";
    }
  });
  const store = storeWith(wrapped);
  const error: unknown = await store.getById("Busy", "saga-2").catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TransientError);
  building = false;
  await expect(store.getById("Busy", "saga-2")).resolves.toBeNull();
});
