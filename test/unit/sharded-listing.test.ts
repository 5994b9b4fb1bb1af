/**
 * `findByName` over a sharded name, against a fake that pages like DynamoDB's Query (`Limit`
 * counts items evaluated before the filter; `LastEvaluatedKey` is the last one evaluated):
 * every saga once, in saga id order across pages, reading about twice what it returns.
 */
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { createDynamoDBSagaStore, type SagaState, type StoreCommand } from "../../src";
import { encodeState } from "../../src/internals";
import { insertInput } from "../../src/commands";
import { shardedLayout } from "../../src/layout";

const NAME = "Saga";

/** A table of saga items under `shards` partitions; counts the items each Query reads. */
const fakeTable = (shards: number, sagas: ReadonlyArray<{ id: string; completed: boolean }>) => {
  const table = {
    tableName: "sagas",
    correlationIndexName: "GSI1",
    cleanupIndexName: "GSI2",
    layout: shardedLayout(shards),
  };
  const items = sagas
    .map(({ id, completed }) => {
      const state: SagaState = {
        metadata: {
          sagaId: id,
          version: 0,
          createdAt: new Date(0),
          updatedAt: new Date(0),
          isCompleted: completed,
        },
      };
      return insertInput(table, NAME, `c-${id}`, encodeState(state, {}, undefined))
        .TransactItems![0]!.Put!.Item!;
    })
    .sort((a, b) => Buffer.compare(Buffer.from(String(a.SK)), Buffer.from(String(b.SK))));
  const counts = { queries: 0, read: 0 };
  const send = async (command: StoreCommand) => {
    if (!(command instanceof QueryCommand)) throw new Error("unexpected command");
    const input = command.input;
    const values = input.ExpressionAttributeValues!;
    const after = input.ExclusiveStartKey?.SK as string | undefined;
    const partition = items.filter(
      (item) =>
        item.PK === values[":pk"] &&
        (after === undefined ||
          Buffer.compare(Buffer.from(String(item.SK)), Buffer.from(after)) > 0),
    );
    const evaluated = input.Limit === undefined ? partition : partition.slice(0, input.Limit);
    counts.queries += 1;
    counts.read += evaluated.length;
    const kept =
      input.FilterExpression === undefined
        ? evaluated
        : evaluated.filter((item) => item.isCompleted === values[":completed"]);
    const page = { Items: kept, Count: kept.length, ScannedCount: evaluated.length };
    return evaluated.length < partition.length
      ? { ...page, LastEvaluatedKey: { PK: values[":pk"], SK: evaluated.at(-1)!.SK } }
      : page;
  };
  return { send, counts };
};

const listAll = async (
  store: ReturnType<typeof createDynamoDBSagaStore>,
  options: { limit?: number; completed?: boolean },
) => {
  const seen: string[] = [];
  let startKey: string | undefined;
  let pages = 0;
  do {
    const page = await store.findByName(NAME, { ...options, startKey });
    if (options.limit !== undefined) expect(page.items.length).toBeLessThanOrEqual(options.limit);
    seen.push(...page.items.map((saga) => saga.metadata.sagaId));
    startKey = page.lastKey;
    pages += 1;
  } while (startKey !== undefined && pages < 1000);
  return seen;
};

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

it("lists every saga once, in saga id order, for any shard count, limit and filter", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 2, max: 9 }),
      fc.uniqueArray(
        fc.record({ id: fc.string({ minLength: 1, maxLength: 6 }), completed: fc.boolean() }),
        {
          selector: (saga) => saga.id,
          maxLength: 60,
        },
      ),
      fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
      fc.option(fc.boolean(), { nil: undefined }),
      async (shards, sagas, limit, completed) => {
        const { send } = fakeTable(shards, sagas);
        const store = createDynamoDBSagaStore({ send, tableName: "sagas", shards });
        const wanted = sagas
          .filter((saga) => completed === undefined || saga.completed === completed)
          .map((saga) => saga.id);
        const seen = await listAll(store, { limit, completed });
        expect([...seen].sort(byBytes)).toEqual([...wanted].sort(byBytes));
        // With a limit, a true merge: saga id order across pages too.
        if (limit !== undefined) expect(seen).toEqual([...seen].sort(byBytes));
      },
    ),
    { numRuns: 300 },
  );
});

it("a page reads about twice its limit, not the limit from each of the N partitions", async () => {
  const sagas = Array.from({ length: 1000 }, (_, i) => ({ id: `saga-${i}`, completed: false }));
  const { send, counts } = fakeTable(16, sagas);
  const store = createDynamoDBSagaStore({ send, tableName: "sagas", shards: 16 });
  const seen = await listAll(store, { limit: 100 });
  expect(seen).toHaveLength(1000);
  // Was 16 partitions x 100 items per page: about 16,000 items read for 1,000 returned.
  expect(counts.read).toBeLessThan(2 * 1000);
});

// A filter few sagas pass: each page stops at its read budget (2 × limit + N items, and the
// chunks in flight) and hands back a cursor, instead of reading the whole name in one call.
it("a filtered page reads a bounded number of items, and the listing still finds them all", async () => {
  const sagas = Array.from({ length: 5000 }, (_, i) => ({
    id: `saga-${String(i).padStart(4, "0")}`,
    completed: i % 1000 === 999,
  }));
  const { send, counts } = fakeTable(16, sagas);
  const store = createDynamoDBSagaStore({ send, tableName: "sagas", shards: 16 });
  const first = await store.findByName(NAME, { limit: 10, completed: true });
  expect(first.lastKey).toBeDefined();
  // The budget (2 × 10 + 16), and at most one item more for each shard of the last round.
  expect(counts.read).toBeLessThanOrEqual(2 * 10 + 16 + 16);
  const seen = await listAll(store, { limit: 10, completed: true });
  expect(seen).toEqual(["saga-0999", "saga-1999", "saga-2999", "saga-3999", "saga-4999"]);
});
