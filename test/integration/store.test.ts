/** The store contract, the seed README's rows and the key layout, on DynamoDB Local. */
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import {
  ConcurrencyError,
  createDynamoDBSagaStore,
  DynamoDBSagaStore,
  InvalidStateError,
  SagaAlreadyExistsError,
  sendVia,
  type DynamoDBSagaStoreFunctions,
} from "../../src";
import { createLocalTable, type LocalTable } from "../support/local-table";
import { nextVersion, orderState, startMetadata, type OrderState } from "../support/states";

let table: LocalTable;
let store: DynamoDBSagaStoreFunctions<OrderState>;

beforeAll(async () => {
  table = await createLocalTable();
  store = createDynamoDBSagaStore<OrderState>({
    send: sendVia(table.docClient),
    tableName: table.tableName,
  });
});
afterAll(() => table.drop());

const scanAll = async () =>
  (
    await table.docClient.send(
      new ScanCommand({ TableName: table.tableName, ConsistentRead: true }),
    )
  ).Items ?? [];

describe("contract", () => {
  it("inserts, reads by id and by correlation id, with every Date back as a Date", async () => {
    const state = orderState(
      "order-1",
      startMetadata({
        timeoutExpiresAt: new Date(Date.UTC(2027, 0, 1, 0, 0, 0, 123)),
        archivedAt: null,
      }),
    );
    await store.insert("OrderSaga", "order-1", state);

    const byId = await store.getById("OrderSaga", state.metadata.sagaId);
    const byCorrelation = await store.getByCorrelationId("OrderSaga", "order-1");
    expect(byId).toEqual(state);
    expect(byCorrelation).toEqual(state);
    expect(byId!.placedAt).toBeInstanceOf(Date);
    expect(byId!.placedAt.getTime()).toBe(state.placedAt.getTime());
    expect(byId!.lines[0]!.reservedAt!.getTime()).toBe(Date.UTC(2026, 10, 25, 12, 35, 0, 1));
    expect(byId!.customer.address.since).toBeInstanceOf(Date);
    expect(byId!.metadata.createdAt).toBeInstanceOf(Date);
    expect(byId!.metadata.timeoutExpiresAt!.getTime()).toBe(Date.UTC(2027, 0, 1, 0, 0, 0, 123));
    expect(byId!.metadata.archivedAt).toBeNull();
  });

  it("returns null for unknown ids and correlation ids", async () => {
    await expect(store.getById("OrderSaga", "nope")).resolves.toBeNull();
    await expect(store.getByCorrelationId("OrderSaga", "nope")).resolves.toBeNull();
  });

  it("refuses a second insert of the same saga id", async () => {
    const state = orderState("order-2");
    await store.insert("OrderSaga", "order-2", state);
    await expect(store.insert("OrderSaga", "order-2b", state)).rejects.toBeInstanceOf(
      SagaAlreadyExistsError,
    );
    // The failed insert wrote nothing: no correlation item for order-2b.
    await expect(store.getByCorrelationId("OrderSaga", "order-2b")).resolves.toBeNull();
  });

  it("updates only at the expected version, and reports the actual version in one round trip", async () => {
    const state = orderState("order-3");
    await store.insert("OrderSaga", "order-3", state);
    const v1 = nextVersion(state, { status: "paid" });
    await store.update("OrderSaga", v1, 0);

    const stale = nextVersion(state, { status: "stale" });
    const error = await store.update("OrderSaga", stale, 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({
      name: "ConcurrencyError",
      sagaId: state.metadata.sagaId,
      expectedVersion: 0,
      actualVersion: 1,
    });
    expect((await store.getById("OrderSaga", state.metadata.sagaId))!.status).toBe("paid");
  });

  it("reports an update of a missing saga as a conflict saga-bus retries, marked notFound", async () => {
    const ghost = nextVersion(orderState("ghost"));
    await expect(store.update("OrderSaga", ghost, 0)).rejects.toMatchObject({
      name: "ConcurrencyError",
      notFound: true,
    });
    expect((await scanAll()).some((item) => item.sagaId === ghost.metadata.sagaId)).toBe(false);
  });

  it("keeps the correlation id across updates that do not know it", async () => {
    const state = orderState("order-4");
    await store.insert("OrderSaga", "order-4", state);
    await store.update("OrderSaga", nextVersion(state, { status: "shipped" }), 0);
    expect((await store.getByCorrelationId("OrderSaga", "order-4"))!.status).toBe("shipped");
  });

  it("deletes a saga and its correlation item, and delete is idempotent", async () => {
    const state = orderState("order-5");
    await store.insert("OrderSaga", "order-5", state);
    await store.delete("OrderSaga", state.metadata.sagaId);
    await store.delete("OrderSaga", state.metadata.sagaId);
    const left = (await scanAll()).filter((i) => i.sagaId === state.metadata.sagaId);
    expect(left).toEqual([]);
  });

  it("rejects invalid state before writing anything", async () => {
    const bad = { ...orderState("order-6"), total: Number.NaN };
    await expect(store.insert("OrderSaga", "order-6", bad)).rejects.toBeInstanceOf(
      InvalidStateError,
    );
    expect((await scanAll()).some((item) => item.correlationId === "order-6")).toBe(false);
  });
});

describe("key layout (the seed README's table)", () => {
  it("writes PK, SK, GSI1 always and GSI2 only while completed", async () => {
    const state = orderState("order-k");
    await store.insert("Layout", "order-k", state);
    const sagaId = state.metadata.sagaId;
    const find = async () => (await scanAll()).find((item) => item.SK === `ID#${sagaId}`)!;

    expect(await find()).toMatchObject({
      PK: "SAGA#Layout",
      SK: `ID#${sagaId}`,
      GSI1PK: "SAGA#Layout",
      GSI1SK: "CORR#order-k",
    });
    expect((await find()).GSI2PK).toBeUndefined();

    // Completed a minute before midnight UTC (the completing write's updatedAt).
    const done = nextVersion(
      state,
      {},
      { isCompleted: true, updatedAt: new Date(Date.UTC(2026, 10, 20, 23, 59, 0)) },
    );
    await store.update("Layout", done, 0);
    expect(await find()).toMatchObject({
      GSI2PK: "COMPLETED#2026-11-20",
      GSI2SK: `Layout#${sagaId}`,
    });

    // A later update of a completed saga, on the next day, keeps the completion day.
    const later = nextVersion(done, {}, { updatedAt: new Date(Date.UTC(2026, 10, 21, 0, 1)) });
    await store.update("Layout", later, 1);
    expect((await find()).GSI2PK).toBe("COMPLETED#2026-11-20");

    // Reopened: out of the cleanup index.
    await store.update("Layout", nextVersion(later, {}, { isCompleted: false }), 2);
    const reopened = await find();
    expect(reopened.GSI2PK).toBeUndefined();
    expect(reopened.GSI2SK).toBeUndefined();
  });

  it("creates the table of getTableSchema: keys, both indexes, on-demand billing", async () => {
    const { Table } = await table.client.send(
      new DescribeTableCommand({ TableName: table.tableName }),
    );
    expect(Table!.KeySchema).toEqual([
      { AttributeName: "PK", KeyType: "HASH" },
      { AttributeName: "SK", KeyType: "RANGE" },
    ]);
    const indexes = Object.fromEntries(
      (Table!.GlobalSecondaryIndexes ?? []).map((i) => [i.IndexName, i]),
    );
    expect(
      indexes.GSI1!.KeySchema!.map((k: { AttributeName?: string }) => k.AttributeName),
    ).toEqual(["GSI1PK", "GSI1SK"]);
    expect(
      indexes.GSI2!.KeySchema!.map((k: { AttributeName?: string }) => k.AttributeName),
    ).toEqual(["GSI2PK", "GSI2SK"]);
    expect(Table!.BillingModeSummary?.BillingMode ?? "PAY_PER_REQUEST").toBe("PAY_PER_REQUEST");
  });
});

describe("listing and cleanup", () => {
  it("pages through every saga of a name with an opaque cursor, and filters by completion", async () => {
    const states = Array.from({ length: 7 }, (_, i) => orderState(`list-${i}`));
    for (const s of states) await store.insert("Listed", s.metadata.sagaId, s);
    await store.insert("ListedOther", "x", orderState("x"));
    await store.update("Listed", nextVersion(states[0]!, {}, { isCompleted: true }), 0);

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.findByName("Listed", { limit: 3, startKey: cursor });
      seen.push(...page.items.map((s) => s.metadata.sagaId));
      cursor = page.lastKey;
      pages++;
    } while (cursor !== undefined);
    expect(seen.sort()).toEqual(states.map((s) => s.metadata.sagaId).sort());
    expect(pages).toBeGreaterThanOrEqual(3);

    const completed = await store.findByName("Listed", { completed: true });
    expect(completed.items.map((s) => s.metadata.sagaId)).toEqual([states[0]!.metadata.sagaId]);
  });

  it("deletes completed sagas older than the cutoff, with their correlation items, and nothing else", async () => {
    const name = "Cleanup";
    const old = Array.from({ length: 60 }, (_, i) => orderState(`old-${i}`));
    const recent = orderState("recent");
    const active = orderState("active");
    const otherName = orderState("other");
    /** The completing update of `state`, written at `at` (its updatedAt). */
    const complete = (state: OrderState, at: Date) =>
      nextVersion(state, {}, { isCompleted: true, updatedAt: at });
    const early = new Date(Date.UTC(2026, 0, 10));
    for (const s of old) {
      await store.insert(name, s.orderId, s);
      await store.update(name, complete(s, early), 0);
    }
    await store.insert(`${name}X`, otherName.orderId, otherName);
    await store.update(`${name}X`, complete(otherName, early), 0);
    await store.insert(name, recent.orderId, recent);
    await store.update(name, complete(recent, new Date(Date.UTC(2026, 5, 1))), 0);
    await store.insert(name, active.orderId, active);

    const deleted = await store.deleteCompletedBefore(name, new Date(Date.UTC(2026, 2, 1)));
    expect(deleted).toBe(60);
    const items = await scanAll();
    for (const s of old) {
      expect(items.some((i) => i.sagaId === s.metadata.sagaId)).toBe(false);
      expect(items.some((i) => i.SK === `CORR#${s.orderId}` && i.PK === `SAGA#${name}`)).toBe(
        false,
      );
    }
    for (const s of [recent, active])
      expect(await store.getByCorrelationId(name, s.orderId)).not.toBeNull();
    expect(await store.getByCorrelationId(`${name}X`, otherName.orderId)).not.toBeNull();
  });
});

describe("the seed README's class", () => {
  it("works as written: new DynamoDBSagaStore({ client, tableName })", async () => {
    const classStore = new DynamoDBSagaStore<OrderState>({
      client: table.docClient,
      tableName: table.tableName,
    });
    const state = orderState("class-1");
    await classStore.insert("ClassSaga", "class-1", state);
    await classStore.update("ClassSaga", nextVersion(state, { status: "done" }), 0);
    const { getByCorrelationId } = classStore; // saga-bus calls methods; the shell must not need `this` tricks
    expect(getByCorrelationId).toBeInstanceOf(Function);
    expect((await classStore.getByCorrelationId("ClassSaga", "class-1"))!.status).toBe("done");
  });
});
