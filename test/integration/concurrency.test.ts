/**
 * One saga per correlation id, and lookups that see every write, on DynamoDB Local: in the
 * default layout and with 16 shards per saga name.
 */
import { QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import {
  ConcurrencyError,
  createDynamoDBSagaStore,
  sendVia,
  type DynamoDBSagaStoreFunctions,
} from "../../src";
import { shardedLayout } from "../../src/layout";
import { createLocalTable, type LocalTable } from "../support/local-table";
import { nextVersion, orderState, startMetadata, type OrderState } from "../support/states";

describe.each([1, 16])("shards: %i", (shards) => {
  let table: LocalTable;
  let store: DynamoDBSagaStoreFunctions<OrderState>;
  const layout = shardedLayout(shards);

  beforeAll(async () => {
    table = await createLocalTable({ shards });
    store = createDynamoDBSagaStore<OrderState>({
      send: sendVia(table.docClient),
      tableName: table.tableName,
      shards,
    });
  });
  afterAll(() => table.drop());

  /** Every item under the partitions of `sagaName` (one, or one per shard). */
  const itemsOf = async (sagaName: string) => {
    const pages = await Promise.all(
      layout.sagaPartitions(sagaName).map((pk) =>
        table.docClient.send(
          new QueryCommand({
            TableName: table.tableName,
            ConsistentRead: true,
            KeyConditionExpression: "PK = :pk",
            ExpressionAttributeValues: { ":pk": pk },
          }),
        ),
      ),
    );
    return pages.flatMap((page) => page.Items ?? []);
  };

  /** What the saga-bus runtime does for a message: load by correlation id, then insert or update. */
  const handle = async (
    sagaName: string,
    correlationId: string,
    messageId: string,
  ): Promise<"started" | "updated"> => {
    for (;;) {
      const loaded = await store.getByCorrelationId(sagaName, correlationId);
      try {
        if (loaded === null) {
          const state = orderState(correlationId, startMetadata());
          await store.insert(sagaName, correlationId, state);
          await store.update(sagaName, nextVersion(state, { applied: [messageId] }), 0);
          return "started";
        }
        await store.update(
          sagaName,
          nextVersion(loaded, { applied: [...loaded.applied, messageId] }),
          loaded.metadata.version,
        );
        return "updated";
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
      }
    }
  };

  it("50 concurrent inserts for one correlation id leave exactly one saga, and the losers get ConcurrencyError", async () => {
    const states = Array.from({ length: 50 }, () => orderState("race-1"));
    const results = await Promise.allSettled(states.map((s) => store.insert("Race", "race-1", s)));

    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(won).toHaveLength(1);
    for (const r of lost) {
      expect(r.reason).toBeInstanceOf(ConcurrencyError);
      expect(r.reason).toMatchObject({ name: "ConcurrencyError", expectedVersion: 0 });
    }
    const items = await itemsOf("Race");
    expect(items.filter((i) => String(i.SK).startsWith("ID#"))).toHaveLength(1);
    expect(items.filter((i) => String(i.SK).startsWith("CORR#"))).toHaveLength(1);
    const winner = states[results.findIndex((r) => r.status === "fulfilled")]!;
    expect(items.find((i) => i.SK === "CORR#race-1")!.sagaId).toBe(winner.metadata.sagaId);
  });

  it("40 concurrent messages through a load-then-update retry loop end at version 41 with each applied once", async () => {
    const start = await handle("Counter", "order-40", "start");
    expect(start).toBe("started");
    const messages = Array.from({ length: 40 }, (_, i) => `m-${i}`);
    const outcomes = await Promise.all(messages.map((m) => handle("Counter", "order-40", m)));
    expect(outcomes.every((o) => o === "updated")).toBe(true);

    const final = (await store.getByCorrelationId("Counter", "order-40"))!;
    expect(final.metadata.version).toBe(41);
    expect([...final.applied].sort()).toEqual(["start", ...messages].sort());
    expect(new Set(final.applied).size).toBe(41);
  });

  it("concurrent start messages for many orders make one saga per order, every message applied once", async () => {
    const orders = Array.from({ length: 20 }, (_, i) => `order-${i}`);
    const messages = orders.flatMap((o) => [0, 1, 2].map((n) => ({ order: o, id: `${o}/m${n}` })));
    // A start whose follow-up update loses to another message retries as an update, as in
    // saga-bus, so outcomes are not counted: the table is.
    await Promise.all(messages.map((m) => handle("Starts", m.order, m.id)));

    const items = await itemsOf("Starts");
    expect(items.filter((i) => String(i.SK).startsWith("ID#"))).toHaveLength(orders.length);
    for (const order of orders) {
      const saga = (await store.getByCorrelationId("Starts", order))!;
      expect([...saga.applied].sort()).toEqual([0, 1, 2].map((n) => `${order}/m${n}`));
    }
  });

  it("a lookup right after an insert never misses it", async () => {
    for (let i = 0; i < 100; i++) {
      const state = orderState(`fresh-${i}`);
      await store.insert("Fresh", `fresh-${i}`, state);
      const found = await store.getByCorrelationId("Fresh", `fresh-${i}`);
      expect(found?.metadata.sagaId).toBe(state.metadata.sagaId);
    }
  });

  it("after a delete, the correlation id can start a new saga", async () => {
    const first = orderState("again");
    await store.insert("Again", "again", first);
    await store.delete("Again", first.metadata.sagaId);
    await expect(store.getByCorrelationId("Again", "again")).resolves.toBeNull();

    const second = orderState("again");
    await store.insert("Again", "again", second);
    expect((await store.getByCorrelationId("Again", "again"))!.metadata.sagaId).toBe(
      second.metadata.sagaId,
    );
    expect(await itemsOf("Again")).toHaveLength(2); // the new saga and its correlation item
  });

  it("eventual lookups find what was inserted", async () => {
    const eventual = createDynamoDBSagaStore<OrderState>({
      send: sendVia(table.docClient),
      tableName: table.tableName,
      consistency: "eventual",
      shards,
    });
    const state = orderState("via-index");
    await eventual.insert("Indexed", "via-index", state);
    let found: OrderState | null = null;
    for (let i = 0; i < 50 && found === null; i++) {
      found = await eventual.getByCorrelationId("Indexed", "via-index");
      if (found === null) await new Promise((r) => setTimeout(r, 20));
    }
    expect(found?.metadata.sagaId).toBe(state.metadata.sagaId);
  });

  it("keeps the correlation index (GSI1) entry of each saga under its correlation id's partition", async () => {
    const state = orderState("in-index");
    await store.insert("Indexed2", "in-index", state);
    const { Items } = await table.docClient.send(
      new ScanCommand({ TableName: table.tableName, IndexName: "GSI1" }),
    );
    const entry = (Items ?? []).find((i) => i.GSI1SK === "CORR#in-index");
    expect(entry?.GSI1PK).toBe(layout.correlationIndexKey("Indexed2", "in-index").GSI1PK);
  });
});
