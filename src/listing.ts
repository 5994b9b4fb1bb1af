/**
 * Listing the sagas of a name (`findByName`, `findAllByName`): one Query of the name's
 * partition per page, or, with a sharded layout, a merge of its N partitions behind one cursor.
 */
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { findByNameInput, layoutOf, type TableNames } from "./commands.js";
import {
  decodeCursor,
  decodeShardCursor,
  encodeCursor,
  encodeShardCursor,
  type ShardPosition,
} from "./cursor.js";
import { ConfigurationError, type SagaStoreErrorInit } from "./errors.js";
import { attribute } from "./failures.js";
import { assertKeyParts } from "./keys.js";
import { isPositiveInteger, type Consistency } from "./options.js";
import type { Perform } from "./request.js";

/** Options of `findByName`. */
export interface FindByNameOptions {
  /**
   * Items DynamoDB evaluates per page (before the `completed` filter), so a filtered page may
   * hold fewer, even none, and still have a `lastKey`. Sharded: at most `limit` sagas per page,
   * from at most about 2 × `limit` + N items read.
   */
  readonly limit?: number;
  /** `lastKey` of the previous page. */
  readonly startKey?: string;
  /** Only completed (`true`) or only active (`false`) sagas. */
  readonly completed?: boolean;
}

/** One page of `findByName`. */
export interface FindByNameResult<TState> {
  readonly items: TState[];
  /** Opaque cursor of the next page; absent on the last page. */
  readonly lastKey?: string;
}

/** What listing needs from the store. */
export interface ListingContext<TState> {
  readonly perform: Perform;
  readonly table: TableNames;
  readonly consistency: Consistency;
  /** A stored saga item as the application's state (checked by its validator). */
  readonly decode: (item: unknown, init: SagaStoreErrorInit) => Promise<TState>;
}

/** One page of the sagas of a name (see `DynamoDBSagaStoreFunctions.findByName`). */
export const findPage = async <TState>(
  ctx: ListingContext<TState>,
  sagaName: string,
  options: FindByNameOptions = {},
): Promise<FindByNameResult<TState>> => {
  const { perform, table, consistency, decode } = ctx;
  const init = { sagaName };
  assertKeyParts({ sagaName }, init);
  const { limit, startKey, completed } = options;
  if (limit !== undefined && !isPositiveInteger(limit)) {
    throw new ConfigurationError(
      "options.invalid",
      `findByName limit must be a positive integer, got ${String(limit)}`,
    );
  }
  if (completed !== undefined && typeof completed !== "boolean") {
    throw new ConfigurationError("options.invalid", "findByName completed must be a boolean");
  }
  const query = { limit, completed };
  if (layoutOf(table).shards > 1) return findInShards(ctx, sagaName, query, startKey);
  const startSortKey = startKey === undefined ? undefined : decodeCursor(startKey);
  const out = await perform(
    { ...init, operation: "findByName" },
    new QueryCommand(
      findByNameInput(table, sagaName, { ...query, startSortKey }, consistency === "strong"),
    ),
  );
  const items = await Promise.all((out.Items ?? []).map((item) => decode(item, init)));
  const last = attribute(out.LastEvaluatedKey, "SK");
  return typeof last === "string" ? { items, lastKey: encodeCursor(last) } : { items };
};

/**
 * One page over the N partitions of a sharded name, merged in sort key order (DynamoDB's, by
 * UTF-8 bytes). With a `limit`, each partition is read in chunks (limit/N items, doubling on
 * each refill), and one is read further only when its chunk is used up and it may hold the
 * next item: a page reads about twice its `limit`, not N times, and stops at 2 × limit + N
 * items read. Without one, a page is one DynamoDB page of each partition. The cursor holds
 * how far each partition was taken.
 */
const findInShards = async <TState>(
  { perform, table, consistency, decode }: ListingContext<TState>,
  sagaName: string,
  query: { readonly limit?: number | undefined; readonly completed?: boolean | undefined },
  startKey: string | undefined,
): Promise<FindByNameResult<TState>> => {
  const init = { sagaName };
  const layout = layoutOf(table);
  const { limit } = query;
  const starts =
    startKey === undefined
      ? Array.from({ length: layout.shards }, (): ShardPosition => "")
      : decodeShardCursor(startKey, layout.shards);
  const shards = starts.map((start) => ({
    /** Where the next read starts (`""`: at the beginning; `null`: read to the end). */
    next: start,
    /** Read and not taken, in sort key order. */
    buffer: [] as Array<{ readonly item: Record<string, unknown>; readonly sk: string }>,
    /** Where to read again from to get the buffer back: after the last item taken. */
    resume: start,
    chunk: limit === undefined ? undefined : Math.ceil(limit / layout.shards),
  }));
  type Shard = (typeof shards)[number];
  // Items evaluated by this page's reads, and how many it may read: with a filter that few
  // items pass, a page ends early (with a cursor) rather than read the whole name.
  let evaluated = 0;
  const budget = limit === undefined ? Infinity : 2 * limit + layout.shards;

  const refill = async (state: Shard, shard: number, share: number | undefined) => {
    state.resume = state.next;
    const out = await perform(
      { ...init, operation: "findByName" },
      new QueryCommand(
        findByNameInput(
          table,
          sagaName,
          {
            limit: state.chunk === undefined ? undefined : Math.min(state.chunk, share ?? Infinity),
            completed: query.completed,
            startSortKey: state.next === "" || state.next === null ? undefined : state.next,
          },
          consistency === "strong",
          shard,
        ),
      ),
    );
    for (const item of out.Items ?? []) {
      state.buffer.push({ item, sk: String(attribute(item, "SK")) });
    }
    // DynamoDB always says how many it evaluated; a server that does not, read a full chunk.
    evaluated +=
      out.ScannedCount ??
      (out.LastEvaluatedKey === undefined ? (out.Items?.length ?? 0) : (state.chunk ?? 0));
    const more = attribute(out.LastEvaluatedKey, "SK");
    state.next = typeof more === "string" ? more : null;
    if (state.chunk !== undefined) state.chunk = Math.min(state.chunk * 2, limit ?? state.chunk);
  };
  /** Reads every partition that has nothing in hand but may hold more, within the budget. */
  const refillEmpty = () => {
    const waiting = shards.flatMap((state, shard) =>
      state.buffer.length === 0 && state.next !== null ? [shard] : [],
    );
    // What is left of the budget, shared out (at least one item each, so each moves on).
    const share =
      limit === undefined
        ? undefined
        : Math.max(1, Math.ceil((budget - evaluated) / Math.max(1, waiting.length)));
    return Promise.all(waiting.map((shard) => refill(shards[shard]!, shard, share)));
  };
  const before = (a: Shard, b: Shard) =>
    Buffer.compare(Buffer.from(a.buffer[0]!.sk), Buffer.from(b.buffer[0]!.sk)) <= 0 ? a : b;

  const kept: Array<Record<string, unknown>> = [];
  if (limit === undefined) await refillEmpty();
  while (limit === undefined || kept.length < limit) {
    if (limit !== undefined) {
      const needed = shards.some((state) => state.buffer.length === 0 && state.next !== null);
      // Every read moved some partition on, so the next page goes on from there.
      if (needed && evaluated >= budget) break;
      // A partition with nothing in hand may hold the smallest next item: read it first (again
      // when a read brought only items the filter dropped).
      await refillEmpty();
      if (shards.some((state) => state.buffer.length === 0 && state.next !== null)) continue;
    }
    const holding = shards.filter((state) => state.buffer.length > 0);
    if (holding.length === 0) break;
    const from = holding.reduce(before);
    const { item, sk } = from.buffer.shift()!;
    from.resume = sk;
    kept.push(item);
  }
  const positions = shards.map((state): ShardPosition =>
    state.buffer.length > 0 ? state.resume : state.next,
  );
  const items = await Promise.all(kept.map((item) => decode(item, init)));
  return positions.every((position) => position === null)
    ? { items }
    : { items, lastKey: encodeShardCursor(positions) };
};

/** Every saga of a name, page after page. */
export async function* allPages<TState>(
  ctx: ListingContext<TState>,
  sagaName: string,
  options: Omit<FindByNameOptions, "startKey"> = {},
): AsyncIterableIterator<TState> {
  let startKey: string | undefined;
  do {
    const page = await findPage(ctx, sagaName, { ...options, startKey });
    yield* page.items;
    startKey = page.lastKey;
  } while (startKey !== undefined);
}
