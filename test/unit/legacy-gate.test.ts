/**
 * A store on a table that still holds 0.2.x sagas never answers "no saga" for them (saga-bus
 * would start a second saga): a miss probes the name's 0.2.x partition, once per name while
 * it is empty, every time while it is not.
 */
import { GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import {
  createDynamoDBSagaStore,
  SagaStoreError,
  UnmigratedTableError,
  type StoreCommand,
} from "../../src";

const NAME = "OrderSaga";

/** A table where nothing of today's layout exists, and the 0.2.x partition holds `legacy`. */
const fakeTable = (legacy: { items: unknown[] }) => {
  const calls: StoreCommand[] = [];
  const send = jest.fn(async (command: StoreCommand) => {
    calls.push(command);
    if (command instanceof QueryCommand) return { Items: legacy.items };
    return {};
  });
  return { send, calls };
};

it("a lookup that misses refuses with UnmigratedTableError naming the migrate command", async () => {
  const { send, calls } = fakeTable({ items: [{ sagaName: NAME }] });
  const store = createDynamoDBSagaStore({ send, tableName: "sagas" });
  const error: unknown = await store.getByCorrelationId(NAME, "order-1").catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UnmigratedTableError);
  expect(SagaStoreError.is(error, "table.")).toBe(true);
  expect(error).toMatchObject({
    code: "table.unmigrated",
    sagaName: NAME,
    correlationId: "order-1",
    tableName: "sagas",
  });
  expect((error as Error).message).toContain("saga-store-dynamodb migrate --table sagas");
  // The lookup, the layout marker (once per process), the 0.2.x probe.
  expect(calls.map((c) => c.constructor.name)).toEqual([
    "GetCommand",
    "GetCommand",
    "QueryCommand",
  ]);
  expect(calls[2]!.input).toEqual({
    TableName: "sagas",
    KeyConditionExpression: "PK = :pk",
    ExpressionAttributeValues: { ":pk": NAME },
    ProjectionExpression: "sagaName",
    Limit: 1,
    ConsistentRead: true,
  });
});

it("getById misses are checked the same way", async () => {
  const { send } = fakeTable({ items: [{ sagaName: NAME }] });
  const store = createDynamoDBSagaStore({ send, tableName: "sagas" });
  await expect(store.getById(NAME, "saga-1")).rejects.toBeInstanceOf(UnmigratedTableError);
});

it("an empty 0.2.x partition is probed once per name; a migrated table then costs nothing", async () => {
  const { send, calls } = fakeTable({ items: [] });
  const store = createDynamoDBSagaStore({ send, tableName: "sagas" });
  for (let i = 0; i < 5; i++) expect(await store.getByCorrelationId(NAME, `o-${i}`)).toBeNull();
  expect(await store.getByCorrelationId("OtherSaga", "o-1")).toBeNull();
  const probes = calls.filter((c) => c instanceof QueryCommand);
  expect(probes.map((c) => (c as QueryCommand).input.ExpressionAttributeValues)).toEqual([
    { ":pk": NAME },
    { ":pk": "OtherSaga" },
  ]);
  // Six lookups and one read of the layout marker, once per process.
  expect(calls.filter((c) => c instanceof GetCommand)).toHaveLength(7);
});

it("keeps refusing until the table is migrated, then answers", async () => {
  const legacy = { items: [{ sagaName: NAME }] as unknown[] };
  const { send } = fakeTable(legacy);
  const store = createDynamoDBSagaStore({ send, tableName: "sagas" });
  await expect(store.getByCorrelationId(NAME, "o-1")).rejects.toBeInstanceOf(UnmigratedTableError);
  await expect(store.getByCorrelationId(NAME, "o-1")).rejects.toBeInstanceOf(UnmigratedTableError);
  legacy.items = [];
  expect(await store.getByCorrelationId(NAME, "o-1")).toBeNull();
});

it("concurrent misses of one name share one probe", async () => {
  const { send, calls } = fakeTable({ items: [] });
  const store = createDynamoDBSagaStore({ send, tableName: "sagas" });
  const misses = Array.from({ length: 50 }, (_, i) => store.getByCorrelationId(NAME, `o-${i}`));
  expect(await Promise.all(misses)).toEqual(Array(50).fill(null));
  expect(calls.filter((c) => c instanceof QueryCommand)).toHaveLength(1);
});

// An item under the key of a 0.2.x partition that is no 0.2.x saga (another application's, in a
// shared table) does not block the name.
it("an item without the saga's name in sagaName is not a 0.2.x saga", async () => {
  const { send } = fakeTable({ items: [{ sagaName: "Other" }, {}] });
  const store = createDynamoDBSagaStore({ send, tableName: "sagas" });
  expect(await store.getByCorrelationId(NAME, "o-1")).toBeNull();
  const { send: sendBare } = fakeTable({ items: [{}] });
  const bare = createDynamoDBSagaStore({ send: sendBare, tableName: "sagas" });
  expect(await bare.getByCorrelationId(NAME, "o-1")).toBeNull();
});

// Behind another application's item, the rest of the partition is read, filtered to 0.2.x
// sagas of the name: a 0.2.x saga there still blocks the name.
it("a 0.2.x saga behind a foreign item is found on the following pages", async () => {
  const calls: StoreCommand[] = [];
  const send = jest.fn(async (command: StoreCommand) => {
    calls.push(command);
    if (!(command instanceof QueryCommand)) return {};
    const after = command.input.ExclusiveStartKey;
    if (after === undefined) return { Items: [{}], LastEvaluatedKey: { PK: NAME, SK: "#meta" } };
    if (after.SK === "#meta") return { Items: [], LastEvaluatedKey: { PK: NAME, SK: "m" } };
    return { Items: [{ sagaName: NAME }] };
  });
  const store = createDynamoDBSagaStore({ send, tableName: "sagas" });
  await expect(store.getByCorrelationId(NAME, "o-1")).rejects.toBeInstanceOf(UnmigratedTableError);
  const probes = calls.filter((c): c is QueryCommand => c instanceof QueryCommand);
  expect(probes.map((c) => c.input)).toEqual([
    expect.objectContaining({ Limit: 1 }),
    expect.objectContaining({
      ExclusiveStartKey: { PK: NAME, SK: "#meta" },
      FilterExpression: "sagaName = :pk",
    }),
    expect.objectContaining({ ExclusiveStartKey: { PK: NAME, SK: "m" } }),
  ]);
  expect(probes[1]!.input.Limit).toBeUndefined();
});

it("concurrent misses share the probe, and each error names its own lookup", async () => {
  const { send, calls } = fakeTable({ items: [{ sagaName: NAME }] });
  const store = createDynamoDBSagaStore({ send, tableName: "sagas" });
  const errors = await Promise.all(
    ["o-1", "o-2"].map((id) => store.getByCorrelationId(NAME, id).catch((e: unknown) => e)),
  );
  expect(errors.map((e) => (e as UnmigratedTableError).correlationId)).toEqual(["o-1", "o-2"]);
  expect(calls.filter((c) => c instanceof QueryCommand)).toHaveLength(1);
});

it("a hit costs no probe", async () => {
  const calls: StoreCommand[] = [];
  const send = jest.fn(async (command: StoreCommand) => {
    calls.push(command);
    return { Item: { sagaId: "saga-1" } };
  });
  const store = createDynamoDBSagaStore({ send, tableName: "sagas" });
  // The saga item read fails to decode (it is a fake), which is fine: no probe was sent.
  await store.getByCorrelationId(NAME, "o-1").catch(() => undefined);
  expect(calls.some((c) => c instanceof QueryCommand)).toBe(false);
});
