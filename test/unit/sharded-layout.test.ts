/**
 * The sharded layout: a stable, documented shard function; keys spread over N partitions per
 * saga name; `findByName` merges the N partitions behind one cursor.
 */
import fc from "fast-check";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { createDynamoDBSagaStore, type SagaState, type StoreCommand } from "../../src";
import { DEFAULT_LAYOUT, encodeState } from "../../src/internals";
import { insertInput } from "../../src/commands";
import { shardedLayout, shardOf } from "../../src/layout";

describe("shardOf", () => {
  // FNV-1a 32-bit of the UTF-8 bytes: published test vectors ("a" → 0xe40c292c,
  // "foobar" → 0xbf9cf968), then modulo N, zero-padded to the width of N - 1.
  it.each([
    ["a", 16, String(0xe40c292c % 16).padStart(2, "0")],
    ["foobar", 16, String(0xbf9cf968 % 16).padStart(2, "0")],
    ["foobar", 100, String(0xbf9cf968 % 100).padStart(2, "0")],
    ["foobar", 4, String(0xbf9cf968 % 4)],
  ])("shardOf(%j, %i) = %j", (value, shards, expected) => {
    expect(shardOf(value, shards)).toBe(expected);
  });

  it("hashes UTF-8 bytes, not UTF-16 units", () => {
    // "é" is two UTF-8 bytes (c3 a9): FNV-1a over them, by hand.
    let hash = 0x811c9dc5;
    for (const byte of [0xc3, 0xa9]) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
    expect(shardOf("é", 16)).toBe(String(hash % 16).padStart(2, "0"));
  });

  it("spreads random ids evenly enough over 16 shards", () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 16_000; i++) {
      const shard = shardOf(`order-${i}`, 16);
      counts.set(shard, (counts.get(shard) ?? 0) + 1);
    }
    expect(counts.size).toBe(16);
    for (const count of counts.values()) expect(count).toBeLessThan(2 * 1000);
  });
});

describe("shardedLayout", () => {
  const layout = shardedLayout(16);

  it("shards 1 is the seed layout exactly", () => {
    const one = shardedLayout(1);
    expect(one.sagaKey("OrderSaga", "a1")).toEqual(DEFAULT_LAYOUT.sagaKey("OrderSaga", "a1"));
    expect(one.sagaKey("OrderSaga", "a1")).toEqual({ PK: "SAGA#OrderSaga", SK: "ID#a1" });
    expect(one.sagaPartitions("OrderSaga")).toEqual(["SAGA#OrderSaga"]);
    expect(one.cleanupIndexKey("OrderSaga", "a1", new Date("2026-01-05T10:00:00Z"))).toEqual({
      GSI2PK: "COMPLETED#2026-01-05",
      GSI2SK: "OrderSaga#a1",
    });
  });

  it("puts a saga under the shard of its id, its correlation item and index entry under the shard of the correlation id", () => {
    expect(layout.sagaKey("OrderSaga", "a1")).toEqual({
      PK: `SAGA#OrderSaga#${shardOf("a1", 16)}`,
      SK: "ID#a1",
    });
    expect(layout.correlationKey("OrderSaga", "order-42")).toEqual({
      PK: `SAGA#OrderSaga#${shardOf("order-42", 16)}`,
      SK: "CORR#order-42",
    });
    expect(layout.correlationIndexKey("OrderSaga", "order-42")).toEqual({
      GSI1PK: `SAGA#OrderSaga#${shardOf("order-42", 16)}`,
      GSI1SK: "CORR#order-42",
    });
    expect(layout.cleanupIndexKey("OrderSaga", "a1", new Date("2026-01-05T10:00:00Z"))).toEqual({
      GSI2PK: `COMPLETED#2026-01-05#${shardOf("a1", 16)}`,
      GSI2SK: "OrderSaga#a1",
    });
    expect(layout.sagaPartitions("OrderSaga")).toEqual(
      Array.from({ length: 16 }, (_, i) => `SAGA#OrderSaga#${String(i).padStart(2, "0")}`),
    );
  });

  it("every saga key lands in one of the name's partitions, and names never share one", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("A", "B", "AB", "OrderSaga"),
        fc.constantFrom("A", "B", "AB", "OrderSaga"),
        fc.string({ minLength: 1, maxLength: 20 }),
        (a, b, id) => {
          expect(layout.sagaPartitions(a)).toContain(layout.sagaKey(a, id).PK);
          if (a !== b) expect(layout.sagaPartitions(b)).not.toContain(layout.sagaKey(a, id).PK);
        },
      ),
    );
  });
});

describe("findByName over 4 shards", () => {
  type S = SagaState & { readonly n: number };
  const TABLE = {
    tableName: "sagas",
    correlationIndexName: "GSI1",
    cleanupIndexName: "GSI2",
    layout: shardedLayout(4),
  };
  const stored = (id: string) =>
    insertInput(
      TABLE,
      "Saga",
      `c-${id}`,
      encodeState<S>(
        {
          n: 1,
          metadata: {
            sagaId: id,
            version: 0,
            createdAt: new Date(0),
            updatedAt: new Date(0),
            isCompleted: false,
          },
        },
        {},
        undefined,
      ),
    ).TransactItems![0]!.Put!.Item!;
  const ids = Array.from({ length: 23 }, (_, i) => `s${String(i).padStart(2, "0")}`);

  /** A fake table: each partition's saga items in sort key order, paged by `Limit`. */
  const send = jest.fn(async (command: StoreCommand) => {
    if (!(command instanceof QueryCommand)) throw new Error("unexpected");
    const input = command.input;
    const pk = input.ExpressionAttributeValues![":pk"];
    const after = input.ExclusiveStartKey?.SK as string | undefined;
    const all = ids
      .map(stored)
      .filter((item) => item.PK === pk && (after === undefined || (item.SK as string) > after));
    const page = input.Limit === undefined ? all : all.slice(0, input.Limit);
    return page.length < all.length
      ? { Items: page, LastEvaluatedKey: { PK: pk, SK: page.at(-1)!.SK } }
      : { Items: page };
  });

  it("queries the 4 partitions and pages through every saga once, in id order", async () => {
    const store = createDynamoDBSagaStore<S>({ send, tableName: "sagas", shards: 4 });
    const seen: string[] = [];
    let startKey: string | undefined;
    let pages = 0;
    do {
      const page = await store.findByName("Saga", { limit: 5, startKey });
      seen.push(...page.items.map((s) => s.metadata.sagaId));
      expect(page.items.length).toBeLessThanOrEqual(5);
      startKey = page.lastKey;
      pages++;
    } while (startKey !== undefined);
    expect(seen).toEqual(ids);
    expect(pages).toBe(5);
    const partitions = new Set(
      send.mock.calls.map(([c]) => (c as QueryCommand).input.ExpressionAttributeValues![":pk"]),
    );
    expect(partitions.size).toBe(4);
  });

  it("without a limit, findAllByName reads everything", async () => {
    const store = createDynamoDBSagaStore<S>({ send, tableName: "sagas", shards: 4 });
    const all: string[] = [];
    for await (const saga of store.findAllByName("Saga")) all.push(saga.metadata.sagaId);
    expect(all).toEqual(ids);
  });

  it("refuses a cursor of another shard count", async () => {
    const four = createDynamoDBSagaStore<S>({ send, tableName: "sagas", shards: 4 });
    const { lastKey } = await four.findByName("Saga", { limit: 2 });
    const eight = createDynamoDBSagaStore<S>({ send, tableName: "sagas", shards: 8 });
    await expect(eight.findByName("Saga", { startKey: lastKey })).rejects.toMatchObject({
      code: "cursor.invalid",
    });
  });
});

it("shards outside 1-100 are refused when the store is built", () => {
  for (const shards of [0, 101, 1.5, Number.NaN]) {
    expect(() => createDynamoDBSagaStore({ send: jest.fn(), tableName: "sagas", shards })).toThrow(
      expect.objectContaining({ code: "options.invalid" }),
    );
  }
});
