/**
 * Operations on DynamoDB Local: ensureTable, the TTL attribute, the takeover of orphaned
 * correlation items, cleanup (progress, reopened sagas, look-alike names) and findAllByName.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from "@aws-sdk/client-dynamodb";
import {
  BatchExecuteStatementCommand,
  DeleteCommand,
  GetCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  ConcurrencyError,
  ConfigurationError,
  createDynamoDBSagaStore,
  ensureTable,
  sendVia,
  waitForTable,
  type DynamoDBSagaStoreDeps,
  type DynamoDBSagaStoreFunctions,
  type Send,
  type TableClient,
} from "../../src";
import { rejection } from "../support/caught";
import { createLocalTable, ownTables, type LocalTable } from "../support/local-table";
import { sagaItems } from "../support/saga-items";
import { recordingTableClient } from "../support/table-client";
import { nextVersion, orderState, startMetadata, type OrderState } from "../support/states";

// ---------------------------------------------------------------------------------------------
// Helpers

/** Tables this file creates outside `createLocalTable`, dropped at the end. */
const { client, docClient, newTableName } = ownTables();

/** A control-plane client that records the commands it sends to DynamoDB Local. */
const recordingClient = () => {
  const { client: recorder, sent } = recordingTableClient((command) =>
    client.send(command as never),
  );
  return { recorder, sent };
};

/** Creates a table directly (not through the package) and waits until it is ACTIVE. */
const createRawTable = async (input: Omit<CreateTableCommandInput, "TableName">) => {
  const tableName = newTableName("ops");
  await client.send(
    new CreateTableCommand({ BillingMode: "PAY_PER_REQUEST", ...input, TableName: tableName }),
  );
  await waitForTable(client, tableName);
  return tableName;
};

const PK_SK = {
  KeySchema: [
    { AttributeName: "PK", KeyType: "HASH" as const },
    { AttributeName: "SK", KeyType: "RANGE" as const },
  ],
  AttributeDefinitions: [
    { AttributeName: "PK", AttributeType: "S" as const },
    { AttributeName: "SK", AttributeType: "S" as const },
  ],
};

const describeTable = async (tableName: string) =>
  (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table!;

const indexKeys = async (tableName: string) =>
  Object.fromEntries(
    ((await describeTable(tableName)).GlobalSecondaryIndexes ?? []).map((index) => [
      index.IndexName,
      {
        keys: index.KeySchema!.map((k) => `${k.AttributeName} ${k.KeyType}`),
        status: index.IndexStatus,
      },
    ]),
  );

const describeTtl = async (tableName: string) =>
  (await client.send(new DescribeTimeToLiveCommand({ TableName: tableName })))
    .TimeToLiveDescription;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it answers something other than null (or fails after `timeoutMs`). */
const eventually = async <T>(probe: () => Promise<T | null>, timeoutMs = 10_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(50);
  }
};

/** A shared table. */
let table: LocalTable;

beforeAll(async () => {
  table = await createLocalTable();
});
afterAll(() => table.drop());

const makeStore = (
  deps: Partial<DynamoDBSagaStoreDeps<OrderState>> = {},
): DynamoDBSagaStoreFunctions<OrderState> =>
  createDynamoDBSagaStore<OrderState>({
    send: sendVia(table.docClient),
    tableName: table.tableName,
    ...deps,
  });

/** The raw item at a key of the shared table (strongly consistent). */
const rawItem = async (sagaName: string, sk: string) =>
  (
    await table.docClient.send(
      new GetCommand({
        TableName: table.tableName,
        Key: { PK: `SAGA#${sagaName}`, SK: sk },
        ConsistentRead: true,
      }),
    )
  ).Item;

const sagaIdsOf = async (sagaName: string) =>
  (await sagaItems(table, sagaName))
    .filter((i) => String(i.SK).startsWith("ID#"))
    .map((i) => i.sagaId as string)
    .sort();

const correlationIdsOf = async (sagaName: string) =>
  (await sagaItems(table, sagaName))
    .filter((i) => String(i.SK).startsWith("CORR#"))
    .map((i) => String(i.SK).slice("CORR#".length))
    .sort();

/**
 * Inserts a saga and completes it at `completedAt` (the `updatedAt` of the completing write);
 * returns the completed state.
 */
const completedSaga = async (
  store: DynamoDBSagaStoreFunctions<OrderState>,
  sagaName: string,
  correlationId: string,
  completedAt: Date,
): Promise<OrderState> => {
  const state = orderState(
    correlationId,
    startMetadata({ createdAt: completedAt, updatedAt: completedAt }),
  );
  await store.insert(sagaName, correlationId, state);
  const done = nextVersion(
    state,
    { status: "done" },
    { isCompleted: true, updatedAt: completedAt },
  );
  await store.update(sagaName, done, 0);
  return done;
};

const OLD = new Date(Date.UTC(2026, 0, 10, 8, 0, 0));
const CUTOFF = new Date(Date.UTC(2026, 1, 1));
const RECENT = new Date(Date.UTC(2026, 2, 1, 9, 30, 0));

// ---------------------------------------------------------------------------------------------

describe("ensureTable", () => {
  it("creates a missing table with both indexes, and a second call changes nothing", async () => {
    const tableName = newTableName("ops");
    const first = await ensureTable(client, { tableName });
    expect(first).toEqual([{ kind: "createdTable", tableName }]);

    const table = await describeTable(tableName);
    expect(table.TableStatus).toBe("ACTIVE");
    expect(table.KeySchema!.map((k) => `${k.AttributeName} ${k.KeyType}`)).toEqual([
      "PK HASH",
      "SK RANGE",
    ]);
    expect(await indexKeys(tableName)).toEqual({
      GSI1: { keys: ["GSI1PK HASH", "GSI1SK RANGE"], status: "ACTIVE" },
      GSI2: { keys: ["GSI2PK HASH", "GSI2SK RANGE"], status: "ACTIVE" },
    });

    const { recorder, sent } = recordingClient();
    expect(await ensureTable(recorder, { tableName })).toEqual([]);
    expect(sent.some((c) => c instanceof CreateTableCommand)).toBe(false);
    expect(sent.some((c) => c instanceof UpdateTableCommand)).toBe(false);
  });

  // "Idempotent: safe at every start": two instances of a service start at once, and both
  // find the table missing before either creates it (forced here, so the race always happens).
  it("two concurrent calls on a missing table both succeed, and exactly one creates it", async () => {
    const tableName = newTableName("ops");
    let looked = 0;
    let bothLooked!: () => void;
    const barrier = new Promise<void>((resolve) => (bothLooked = resolve));
    const instance = (): TableClient => {
      let first = true;
      return {
        send: async (command) => {
          if (!(first && command instanceof DescribeTableCommand)) {
            return client.send(command as never);
          }
          first = false;
          try {
            return await client.send(command);
          } finally {
            if (++looked === 2) bothLooked();
            await barrier;
          }
        },
      };
    };
    const results = await Promise.allSettled([
      ensureTable(instance(), { tableName }),
      ensureTable(instance(), { tableName }),
    ]);

    expect(looked).toBe(2);
    expect(results.map((r) => (r.status === "rejected" ? String(r.reason) : "ok"))).toEqual([
      "ok",
      "ok",
    ]);
    const changes = results.flatMap((r) => (r.status === "fulfilled" ? r.value : []));
    expect(changes).toEqual([{ kind: "createdTable", tableName }]);
    expect(Object.keys(await indexKeys(tableName)).sort()).toEqual(["GSI1", "GSI2"]);
  });

  it("adds the missing indexes to a PK/SK table, one UpdateTable each, after which the store works", async () => {
    const tableName = await createRawTable(PK_SK);
    expect(await indexKeys(tableName)).toEqual({});

    const { recorder, sent } = recordingClient();
    const changes = await ensureTable(recorder, { tableName });
    expect(changes).toEqual([
      { kind: "createdIndex", indexName: "GSI1" },
      { kind: "createdIndex", indexName: "GSI2" },
    ]);
    const updates = sent.filter((c): c is UpdateTableCommand => c instanceof UpdateTableCommand);
    expect(updates).toHaveLength(2);
    expect(updates.map((u) => u.input.GlobalSecondaryIndexUpdates!.length)).toEqual([1, 1]);
    expect(updates.map((u) => u.input.GlobalSecondaryIndexUpdates![0]!.Create!.IndexName)).toEqual([
      "GSI1",
      "GSI2",
    ]);
    expect(await indexKeys(tableName)).toEqual({
      GSI1: { keys: ["GSI1PK HASH", "GSI1SK RANGE"], status: "ACTIVE" },
      GSI2: { keys: ["GSI2PK HASH", "GSI2SK RANGE"], status: "ACTIVE" },
    });
    expect(await ensureTable(client, { tableName })).toEqual([]);

    // The store works on the completed table: the correlation index and the cleanup index.
    const store = createDynamoDBSagaStore<OrderState>({
      send: sendVia(docClient),
      tableName,
      consistency: "eventual",
    });
    const state = orderState("upgraded-1");
    await store.insert("Upgraded", "upgraded-1", state);
    const found = await eventually(() => store.getByCorrelationId("Upgraded", "upgraded-1"));
    expect(found).toEqual(state);

    await store.update(
      "Upgraded",
      nextVersion(state, {}, { isCompleted: true, updatedAt: OLD }),
      0,
    );
    const deleted = await eventually(async () => {
      const n = await store.deleteCompletedBefore("Upgraded", CUTOFF);
      return n > 0 ? n : null; // the index is eventually consistent
    });
    expect(deleted).toBe(1);
    expect(await store.getById("Upgraded", state.metadata.sagaId)).toBeNull();
  });

  it("adds only the index that is missing", async () => {
    const tableName = await createRawTable({
      ...PK_SK,
      AttributeDefinitions: [
        ...PK_SK.AttributeDefinitions,
        { AttributeName: "GSI1PK", AttributeType: "S" },
        { AttributeName: "GSI1SK", AttributeType: "S" },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: "GSI1",
          KeySchema: [
            { AttributeName: "GSI1PK", KeyType: "HASH" },
            { AttributeName: "GSI1SK", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        },
      ],
    });
    expect(await ensureTable(client, { tableName })).toEqual([
      { kind: "createdIndex", indexName: "GSI2" },
    ]);
    expect(Object.keys(await indexKeys(tableName)).sort()).toEqual(["GSI1", "GSI2"]);
  });

  it("refuses a table with a different key schema, naming the difference, and changes nothing", async () => {
    const tableName = await createRawTable({
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
    });
    const { recorder, sent } = recordingClient();
    const error = await rejection(ensureTable(recorder, { tableName, ttl: true }));

    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ name: "ConfigurationError", code: "table.invalid" });
    expect(error.message).toContain(tableName);
    expect(error.message).toContain("(id HASH)");
    expect(error.message).toContain("(PK HASH, SK RANGE)");
    expect(sent.every((c) => c instanceof DescribeTableCommand)).toBe(true);
    expect(await indexKeys(tableName)).toEqual({});
    expect((await describeTtl(tableName))?.TimeToLiveStatus).not.toBe("ENABLED");
  });

  it("refuses a table whose key attribute is a number", async () => {
    const tableName = await createRawTable({
      ...PK_SK,
      AttributeDefinitions: [
        { AttributeName: "PK", AttributeType: "S" },
        { AttributeName: "SK", AttributeType: "N" },
      ],
    });
    const error = await rejection(ensureTable(client, { tableName }));
    expect(error).toMatchObject({ name: "ConfigurationError", code: "table.invalid" });
    expect(error.message).toContain("SK must be a string (S)");
  });

  it("refuses a table whose index of the same name has other keys", async () => {
    const tableName = await createRawTable({
      ...PK_SK,
      AttributeDefinitions: [
        ...PK_SK.AttributeDefinitions,
        { AttributeName: "other", AttributeType: "S" },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: "GSI1",
          KeySchema: [{ AttributeName: "other", KeyType: "HASH" }],
          Projection: { ProjectionType: "KEYS_ONLY" },
        },
      ],
    });
    const error = await rejection(ensureTable(client, { tableName }));
    expect(error).toMatchObject({ name: "ConfigurationError", code: "table.invalid" });
    expect(error.message).toContain("index GSI1 has keys (other HASH)");
  });

  it("refuses a table whose cleanup index does not project what cleanup reads", async () => {
    const tableName = await createRawTable({
      ...PK_SK,
      AttributeDefinitions: [
        ...PK_SK.AttributeDefinitions,
        { AttributeName: "GSI2PK", AttributeType: "S" },
        { AttributeName: "GSI2SK", AttributeType: "S" },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: "GSI2",
          KeySchema: [
            { AttributeName: "GSI2PK", KeyType: "HASH" },
            { AttributeName: "GSI2SK", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: ["sagaId"] },
        },
      ],
    });
    const { recorder, sent } = recordingClient();
    const error = await rejection(ensureTable(recorder, { tableName }));
    expect(error).toMatchObject({ name: "ConfigurationError", code: "table.invalid" });
    expect(error.message).toContain("index GSI2 does not project correlationId, completedAt");
    expect(sent.some((c) => c instanceof UpdateTableCommand)).toBe(false);
  });

  it("with ttl: true creates the table and enables TTL on expiresAt; a second call changes nothing", async () => {
    const tableName = newTableName("ops");
    expect(await ensureTable(client, { tableName, ttl: true })).toEqual([
      { kind: "createdTable", tableName },
      { kind: "enabledTtl", attributeName: "expiresAt" },
    ]);
    const ttl = await describeTtl(tableName);
    expect(ttl?.AttributeName).toBe("expiresAt");
    expect(["ENABLED", "ENABLING"]).toContain(ttl?.TimeToLiveStatus);

    const { recorder, sent } = recordingClient();
    expect(await ensureTable(recorder, { tableName, ttl: true })).toEqual([]);
    expect(sent.some((c) => c instanceof UpdateTimeToLiveCommand)).toBe(false);
    expect((await describeTtl(tableName))?.AttributeName).toBe("expiresAt");
  });

  it("with ttl: true enables TTL on an existing complete table", async () => {
    const tableName = newTableName("ops");
    await ensureTable(client, { tableName });
    expect((await describeTtl(tableName))?.TimeToLiveStatus ?? "DISABLED").toBe("DISABLED");
    expect(await ensureTable(client, { tableName, ttl: true })).toEqual([
      { kind: "enabledTtl", attributeName: "expiresAt" },
    ]);
    expect((await describeTtl(tableName))?.AttributeName).toBe("expiresAt");
  });

  it("refuses a table whose TTL is on another attribute", async () => {
    const tableName = newTableName("ops");
    await ensureTable(client, { tableName });
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: "deleteAt", Enabled: true },
      }),
    );
    const error = await rejection(ensureTable(client, { tableName, ttl: true }));
    expect(error).toMatchObject({ name: "ConfigurationError", code: "table.invalid" });
    expect(error.message).toContain("deleteAt");
  });
});

describe("TTL attribute (completedSagaTtlSeconds)", () => {
  const TTL = 3600;
  const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

  it("writes expiresAt at completion, keeps it on later updates, removes it on reopening", async () => {
    const store = makeStore({ completedSagaTtlSeconds: TTL });
    const name = "Expiring";
    const started = new Date(Date.UTC(2026, 0, 15, 12, 0, 0, 400));
    const state = orderState("exp-1", startMetadata({ createdAt: started, updatedAt: started }));
    const sk = `ID#${state.metadata.sagaId}`;
    await store.insert(name, "exp-1", state);
    expect(await rawItem(name, sk)).not.toHaveProperty("expiresAt");

    const completedAt = new Date(Date.UTC(2026, 0, 15, 13, 0, 0, 999));
    const done = nextVersion(
      state,
      { status: "done" },
      { isCompleted: true, updatedAt: completedAt },
    );
    await store.update(name, done, 0);
    const completed = await rawItem(name, sk);
    expect(completed!.expiresAt).toBe(epochSeconds(completedAt) + TTL);
    expect(completed!.completedAt).toBe(completedAt.toISOString());
    // The correlation item carries no expiry (an insert can take it over once TTL is done).
    expect(await rawItem(name, "CORR#exp-1")).not.toHaveProperty("expiresAt");
    // The store still reads the saga.
    expect(await store.getById(name, state.metadata.sagaId)).toEqual(done);

    // A later update of the completed saga (a later updatedAt) keeps the first expiry.
    const later = nextVersion(
      done,
      { status: "annotated" },
      { updatedAt: new Date(Date.UTC(2026, 0, 16, 9, 0, 0)) },
    );
    await store.update(name, later, 1);
    expect((await rawItem(name, sk))!.expiresAt).toBe(epochSeconds(completedAt) + TTL);

    // Reopened: no expiry, so TTL can never delete it.
    const reopened = nextVersion(
      later,
      {},
      { isCompleted: false, updatedAt: new Date(Date.UTC(2026, 0, 17)) },
    );
    await store.update(name, reopened, 2);
    const open = await rawItem(name, sk);
    expect(open).not.toHaveProperty("expiresAt");
    expect(open).not.toHaveProperty("completedAt");

    // Completed again: a new expiry from the new completion.
    const again = new Date(Date.UTC(2026, 0, 20, 0, 0, 0));
    await store.update(name, nextVersion(reopened, {}, { isCompleted: true, updatedAt: again }), 3);
    expect((await rawItem(name, sk))!.expiresAt).toBe(epochSeconds(again) + TTL);
  });

  it("writes expiresAt on a saga inserted completed, and none without the option", async () => {
    const insertedAt = new Date(Date.UTC(2026, 0, 15, 12, 0, 0));
    const withTtl = orderState(
      "exp-2",
      startMetadata({ isCompleted: true, createdAt: insertedAt, updatedAt: insertedAt }),
    );
    await makeStore({ completedSagaTtlSeconds: TTL }).insert("Expiring", "exp-2", withTtl);
    expect((await rawItem("Expiring", `ID#${withTtl.metadata.sagaId}`))!.expiresAt).toBe(
      epochSeconds(insertedAt) + TTL,
    );

    const plain = makeStore();
    const state = orderState("exp-3");
    await plain.insert("Expiring", "exp-3", state);
    await plain.update("Expiring", nextVersion(state, {}, { isCompleted: true }), 0);
    const item = await rawItem("Expiring", `ID#${state.metadata.sagaId}`);
    expect(item!.isCompleted).toBe(true);
    expect(item).not.toHaveProperty("expiresAt");
  });
});

describe("orphaned correlation items", () => {
  /** Deletes a saga item directly, as DynamoDB's TTL would, leaving its correlation item. */
  const expireSaga = (sagaName: string, sagaId: string) =>
    table.docClient.send(
      new DeleteCommand({
        TableName: table.tableName,
        Key: { PK: `SAGA#${sagaName}`, SK: `ID#${sagaId}` },
      }),
    );

  it("an insert takes over the correlation item of a saga that no longer exists", async () => {
    const store = makeStore();
    const name = "Orphans";
    const old = orderState("orphan-1");
    await store.insert(name, "orphan-1", old);
    await expireSaga(name, old.metadata.sagaId);
    expect((await rawItem(name, "CORR#orphan-1"))!.sagaId).toBe(old.metadata.sagaId);
    expect(await store.getByCorrelationId(name, "orphan-1")).toBeNull();

    const fresh = orderState("orphan-1");
    await store.insert(name, "orphan-1", fresh);

    expect(await store.getByCorrelationId(name, "orphan-1")).toEqual(fresh);
    expect((await rawItem(name, "CORR#orphan-1"))!.sagaId).toBe(fresh.metadata.sagaId);
    const eventual = makeStore({ consistency: "eventual" });
    expect(await eventually(() => eventual.getByCorrelationId(name, "orphan-1"))).toEqual(fresh);
    // The new saga goes on as usual.
    await store.update(name, nextVersion(fresh, { status: "paid" }), 0);
    expect((await store.getByCorrelationId(name, "orphan-1"))!.status).toBe("paid");
  });

  it("while the old saga exists, a second insert gets ConcurrencyError and writes nothing", async () => {
    const store = makeStore();
    const name = "Orphans";
    const first = orderState("live-1");
    await store.insert(name, "live-1", first);

    const second = orderState("live-1");
    const error = await rejection(store.insert(name, "live-1", second));
    expect(error.name).toBe("ConcurrencyError");
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({
      sagaId: second.metadata.sagaId,
      existingSagaId: first.metadata.sagaId,
    });
    expect(await store.getById(name, second.metadata.sagaId)).toBeNull();
    expect((await rawItem(name, "CORR#live-1"))!.sagaId).toBe(first.metadata.sagaId);
    expect(await store.getByCorrelationId(name, "live-1")).toEqual(first);
  });

  it("the takeover itself re-checks that the old saga is gone (a stale read of it takes nothing over)", async () => {
    const name = "Orphans";
    const base = makeStore();
    const live = orderState("stale-1");
    await base.insert(name, "stale-1", live);

    // This store's read of the holder answers "gone" although the saga still exists.
    let staleReads = 0;
    const store = makeStore({
      send: (command) => {
        if (
          command instanceof GetCommand &&
          command.input.Key!.SK === `ID#${live.metadata.sagaId}`
        ) {
          staleReads++;
          return Promise.resolve({});
        }
        return sendVia(table.docClient)(command);
      },
    });
    const late = orderState("stale-1");
    const error = await rejection(store.insert(name, "stale-1", late));

    expect(staleReads).toBe(1);
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({ name: "ConcurrencyError", existingSagaId: live.metadata.sagaId });
    expect((await rawItem(name, "CORR#stale-1"))!.sagaId).toBe(live.metadata.sagaId);
    expect(await base.getById(name, late.metadata.sagaId)).toBeNull();
    expect(await base.getByCorrelationId(name, "stale-1")).toEqual(live);
  });

  it("after a takeover, a late insert gets ConcurrencyError naming the new saga", async () => {
    const store = makeStore();
    const name = "Orphans";
    const old = orderState("orphan-2");
    await store.insert(name, "orphan-2", old);
    await expireSaga(name, old.metadata.sagaId);
    const fresh = orderState("orphan-2");
    await store.insert(name, "orphan-2", fresh);

    const late = orderState("orphan-2");
    const error = await rejection(store.insert(name, "orphan-2", late));
    expect(error).toMatchObject({
      name: "ConcurrencyError",
      existingSagaId: fresh.metadata.sagaId,
    });
  });

  it("10 concurrent inserts on one orphaned correlation item: exactly one takes it over", async () => {
    const store = makeStore();
    const name = "OrphanRace";
    const old = orderState("orphan-race");
    await store.insert(name, "orphan-race", old);
    await expireSaga(name, old.metadata.sagaId);

    const states = Array.from({ length: 10 }, () => orderState("orphan-race"));
    const results = await Promise.allSettled(
      states.map((s) => store.insert(name, "orphan-race", s)),
    );
    const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [states[i]!] : []));
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect(r.reason).toBeInstanceOf(ConcurrencyError);
    }
    expect(await sagaIdsOf(name)).toEqual([won[0]!.metadata.sagaId]);
    expect(await correlationIdsOf(name)).toEqual(["orphan-race"]);
    expect(await store.getByCorrelationId(name, "orphan-race")).toEqual(won[0]);
  });
});

describe("cleanup", () => {
  it("reports progress with growing deleted counts ending at the total (full batches of 25)", async () => {
    const store = makeStore();
    const name = "Progress";
    for (let i = 0; i < 60; i++) await completedSaga(store, name, `p-${i}`, OLD);
    const keep = await completedSaga(store, name, "p-recent", RECENT);

    const progress: Array<{ deleted: number; scanned: number }> = [];
    const deleted = await store.deleteCompletedBefore(name, CUTOFF, {
      segments: 1,
      concurrency: 1,
      onProgress: (p) => progress.push(p),
    });

    expect(deleted).toBe(60);
    expect(progress.map((p) => p.deleted)).toEqual([25, 50, 60]);
    expect(progress.at(-1)).toEqual({ deleted: 60, scanned: 60 });
    expect(await sagaIdsOf(name)).toEqual([keep.metadata.sagaId]);
    expect(await correlationIdsOf(name)).toEqual(["p-recent"]);
  });

  it("reports progress from parallel segments, never decreasing, ending at the total", async () => {
    const store = makeStore();
    const name = "ProgressParallel";
    for (let i = 0; i < 40; i++) await completedSaga(store, name, `pp-${i}`, OLD);

    const progress: number[] = [];
    const deleted = await store.deleteCompletedBefore(name, CUTOFF, {
      onProgress: ({ deleted }) => progress.push(deleted),
    });
    expect(deleted).toBe(40);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]!).toBeGreaterThan(progress[i - 1]!);
    }
    expect(progress.at(-1)).toBe(40);
    expect(await sagaItems(table, name)).toEqual([]);
  });

  it("never deletes a saga reopened after completing before the cutoff", async () => {
    const store = makeStore();
    const name = "Reopened";
    const done = await completedSaga(store, name, "r-1", OLD);
    const gone = await completedSaga(store, name, "r-2", OLD);
    // Reopened, then completed again after the cutoff: the new completion counts.
    const recompleted = await completedSaga(store, name, "r-3", OLD);
    await store.update(name, nextVersion(done, {}, { isCompleted: false, updatedAt: RECENT }), 1);
    const reopened = nextVersion(recompleted, {}, { isCompleted: false, updatedAt: RECENT });
    await store.update(name, reopened, 1);
    await store.update(
      name,
      nextVersion(reopened, {}, { isCompleted: true, updatedAt: RECENT }),
      2,
    );

    expect(await store.deleteCompletedBefore(name, CUTOFF)).toBe(1);
    expect(await store.getById(name, gone.metadata.sagaId)).toBeNull();
    expect(await store.getByCorrelationId(name, "r-1")).toMatchObject({
      metadata: { sagaId: done.metadata.sagaId, isCompleted: false },
    });
    expect(await store.getByCorrelationId(name, "r-3")).toMatchObject({
      metadata: { sagaId: recompleted.metadata.sagaId, isCompleted: true },
    });
    expect(await correlationIdsOf(name)).toEqual(["r-1", "r-3"]);
  });

  it("never deletes a saga reopened between the scan and the delete (conditional delete)", async () => {
    const base = makeStore();
    const name = "ReopenedRace";
    const victim = await completedSaga(base, name, "rr-1", OLD);
    const other = await completedSaga(base, name, "rr-2", OLD);

    // Reopens rr-1 right after the scan found it, before the first delete reaches DynamoDB.
    let reopened = false;
    const send: Send = async (command) => {
      if (command instanceof BatchExecuteStatementCommand && !reopened) {
        reopened = true;
        await base.update(
          name,
          nextVersion(victim, {}, { isCompleted: false, updatedAt: RECENT }),
          1,
        );
      }
      return sendVia(table.docClient)(command);
    };
    const progress: number[] = [];
    const store = makeStore({ send });
    const deleted = await store.deleteCompletedBefore(name, CUTOFF, {
      segments: 1,
      onProgress: ({ deleted }) => progress.push(deleted),
    });

    expect(reopened).toBe(true);
    expect(deleted).toBe(1);
    expect(progress).toEqual([1]);
    expect(await base.getById(name, other.metadata.sagaId)).toBeNull();
    expect(await base.getByCorrelationId(name, "rr-1")).toMatchObject({
      metadata: { sagaId: victim.metadata.sagaId, isCompleted: false, version: 2 },
    });
    expect(await correlationIdsOf(name)).toEqual(["rr-1"]);
  });

  it("leaves the sagas of look-alike names alone (Order vs OrderX, Orde, Order-2)", async () => {
    const store = makeStore();
    const names = ["Order", "OrderX", "Orde", "Order-2", "order"];
    const states: Record<string, OrderState> = {};
    for (const name of names) states[name] = await completedSaga(store, name, `la-${name}`, OLD);
    const second = await completedSaga(store, "Order", "la-Order-b", OLD);

    expect(await store.deleteCompletedBefore("Order", CUTOFF)).toBe(2);
    expect(await sagaItems(table, "Order")).toEqual([]);
    expect(await store.getById("Order", second.metadata.sagaId)).toBeNull();
    for (const name of names.filter((n) => n !== "Order")) {
      expect(await store.getByCorrelationId(name, `la-${name}`)).toEqual(states[name]);
      expect(await correlationIdsOf(name)).toEqual([`la-${name}`]);
    }
  });

  it("deletes nothing when nothing completed before the cutoff", async () => {
    const store = makeStore();
    const name = "NothingOld";
    await completedSaga(store, name, "n-1", RECENT);
    await store.insert(name, "n-2", orderState("n-2"));
    const onProgress = jest.fn();
    expect(await store.deleteCompletedBefore(name, CUTOFF, { onProgress })).toBe(0);
    expect(onProgress).not.toHaveBeenCalled();
    expect(await correlationIdsOf(name)).toEqual(["n-1", "n-2"]);
  });

  it("files sagas under the day of their completing updatedAt: of two completed a day apart, a cutoff between them deletes only the older", async () => {
    const store = makeStore();
    const name = "DayApart";
    // Written now, one after the other: only their updatedAt tells them apart.
    const olderAt = new Date(Date.UTC(2026, 0, 20, 23, 30, 0));
    const newerAt = new Date(Date.UTC(2026, 0, 21, 23, 30, 0));
    const older = await completedSaga(store, name, "da-older", olderAt);
    const newer = await completedSaga(store, name, "da-newer", newerAt);
    expect(await rawItem(name, `ID#${older.metadata.sagaId}`)).toMatchObject({
      completedAt: "2026-01-20T23:30:00.000Z",
      GSI2PK: "COMPLETED#2026-01-20",
    });
    expect(await rawItem(name, `ID#${newer.metadata.sagaId}`)).toMatchObject({
      completedAt: "2026-01-21T23:30:00.000Z",
      GSI2PK: "COMPLETED#2026-01-21",
    });

    const cutoff = new Date(Date.UTC(2026, 0, 21, 12, 0, 0));
    expect(await store.deleteCompletedBefore(name, cutoff)).toBe(1);
    expect(await store.getById(name, older.metadata.sagaId)).toBeNull();
    expect(await store.getById(name, newer.metadata.sagaId)).toEqual(newer);
    expect(await sagaIdsOf(name)).toEqual([newer.metadata.sagaId]);
    expect(await correlationIdsOf(name)).toEqual(["da-newer"]);
  });
});

describe("findAllByName", () => {
  it("iterates every saga of a name across pages of 2", async () => {
    const name = "Paged";
    const base = makeStore();
    const states = Array.from({ length: 7 }, (_, i) => orderState(`pg-${i}`));
    for (const s of states) await base.insert(name, s.orderId, s);
    await base.insert(`${name}X`, "pg-x", orderState("pg-x"));
    const done = nextVersion(states[3]!, {}, { isCompleted: true });
    await base.update(name, done, 0);

    let queries = 0;
    const store = makeStore({
      send: (command) => {
        if (command instanceof QueryCommand) queries++;
        return sendVia(table.docClient)(command);
      },
    });
    const seen: OrderState[] = [];
    for await (const state of store.findAllByName(name, { limit: 2 })) seen.push(state);

    const byId = (a: OrderState, b: OrderState) => (a.metadata.sagaId < b.metadata.sagaId ? -1 : 1);
    const expected = states.map((s, i) => (i === 3 ? done : s)).sort(byId);
    expect(seen).toEqual(expected); // in saga id order, Dates as Dates
    expect(seen[0]!.placedAt).toBeInstanceOf(Date);
    expect(queries).toBeGreaterThanOrEqual(4);

    const completed: OrderState[] = [];
    for await (const s of store.findAllByName(name, { limit: 2, completed: true })) {
      completed.push(s);
    }
    expect(completed).toEqual([done]);

    const active: string[] = [];
    for await (const s of store.findAllByName(name, { limit: 2, completed: false })) {
      active.push(s.metadata.sagaId);
    }
    expect(active).toHaveLength(6);
    expect(active).not.toContain(done.metadata.sagaId);
  });
});
