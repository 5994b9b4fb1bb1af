/**
 * The item layout of the table, as one value: key attribute names and formats, the two
 * indexes (keys and projections), and the attributes the store's conditions and DynamoDB's
 * TTL read. The command builders, the table schema, `ensureTable` and cleanup all read it, so
 * another layout (a sharded one) is another value, not edits across modules.
 *
 * The default layout is the seed README's:
 *
 * | item        | PK               | SK                   |
 * |-------------|------------------|----------------------|
 * | saga        | `SAGA#<name>`    | `ID#<sagaId>`        |
 * | correlation | `SAGA#<name>`    | `CORR#<correlation>` |
 *
 * Saga items also carry the correlation index keys (`SAGA#<name>` / `CORR#<correlation>`)
 * and, while completed, the cleanup index keys (`COMPLETED#<YYYY-MM-DD>` / `<name>#<sagaId>`).
 *
 * Saga names may not contain `#` (keys.ts): the cleanup index is searched by the prefix
 * `<name>#`, and a name `A` must never match the items of a name `A#B`.
 */
import type { Projection } from "@aws-sdk/client-dynamodb";

/** Primary key of an item. */
export interface ItemKey {
  readonly PK: string;
  readonly SK: string;
}

/** A global secondary index: its key attributes and what it projects. */
export interface IndexLayout {
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly projection: Projection;
}

/** Where every item and attribute of the store lives. */
export interface TableLayout {
  /**
   * Shards per saga name: 1 is the seed's layout; with N > 1 the items of one name are spread
   * over N partition key values. Part of the table's contract (see `LAYOUT_MARKER_KEY`).
   */
  readonly shards: number;
  /** Primary key attribute names. */
  readonly partitionKey: "PK";
  readonly sortKey: "SK";
  /** Key of the saga item. */
  readonly sagaKey: (sagaName: string, sagaId: string) => ItemKey;
  /** Key of the item that reserves a correlation id for one saga. */
  readonly correlationKey: (sagaName: string, correlationId: string) => ItemKey;
  /** The partition key values that hold the saga items of a name (listing reads each). */
  readonly sagaPartitions: (sagaName: string) => readonly string[];
  /** Sort key prefix of saga items (correlation items share their partitions). */
  readonly sagaSortPrefix: string;
  /** Sort key prefix of correlation items. */
  readonly correlationSortPrefix: string;
  /** Saga id back from a saga item's sort key. */
  readonly sagaIdFromSortKey: (sortKey: string) => string;
  /** The correlation index attributes of a saga item. */
  readonly correlationIndexKey: (
    sagaName: string,
    correlationId: string,
  ) => Readonly<Record<string, string>>;
  /** The cleanup index attributes of a saga item that completed at `completedAt`. */
  readonly cleanupIndexKey: (
    sagaName: string,
    sagaId: string,
    completedAt: Date,
  ) => Readonly<Record<string, string>>;
  /** Cleanup index sort key prefix shared by every saga of one name. */
  readonly cleanupSortPrefix: (sagaName: string) => string;
  readonly indexes: { readonly correlation: IndexLayout; readonly cleanup: IndexLayout };
  /** Epoch seconds DynamoDB's TTL reads (set at completion when configured). */
  readonly ttlAttribute: string;
  /** ISO time of the first completing write (what cleanup compares). */
  readonly completedAtAttribute: string;
  /**
   * Ids of the last updates that wrote a saga item, newest first: an update writes its own
   * random id to the first and shifts the others down (the last drops out). A retried update
   * whose answer was lost recognises its own write in any of them, also when other updates
   * landed before the retry (up to one fewer than there are attributes).
   */
  readonly writeIdAttributes: readonly [string, ...string[]];
}

const SAGA_PARTITION_PREFIX = "SAGA#";
const SAGA_SORT_PREFIX = "ID#";
const CORRELATION_SORT_PREFIX = "CORR#";
const COMPLETED_PARTITION_PREFIX = "COMPLETED#";

/** The UTC day of a completion, as the cleanup index partitions by it. */
const completionDay = (completedAt: Date): string => completedAt.toISOString().slice(0, 10);

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * The shard of `value` among `shards`: FNV-1a (32 bits) of its UTF-8 bytes, modulo `shards`,
 * written in decimal with leading zeros to the width of `shards - 1` (`"07"` of 16). Stable
 * and simple, so that other languages can compute it.
 */
export const shardOf = (value: string, shards: number): string => {
  let hash = FNV_OFFSET;
  for (const byte of Buffer.from(value, "utf8")) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return String(hash % shards).padStart(String(shards - 1).length, "0");
};

/** Largest shard count: enough for ~100× one partition's throughput per saga name. */
export const MAX_SHARDS = 100;

/**
 * The layout with `shards` partitions per saga name (1: the seed README's layout, exactly).
 * With N > 1, a saga's item sits under `SAGA#<name>#<shard of its id>`, a correlation item and
 * its correlation index entry under `SAGA#<name>#<shard of the correlation id>`, and a
 * completed saga's cleanup index entry under `COMPLETED#<day>#<shard of its id>`. Point
 * operations read and write one item as before; listing a name reads its N partitions.
 */
export const shardedLayout = (shards: number): TableLayout => {
  const suffix = (value: string) => (shards === 1 ? "" : `#${shardOf(value, shards)}`);
  const partition = (sagaName: string, shardedBy: string) =>
    SAGA_PARTITION_PREFIX + sagaName + suffix(shardedBy);
  const labels = Array.from({ length: shards }, (_, i) =>
    shards === 1 ? "" : `#${String(i).padStart(String(shards - 1).length, "0")}`,
  );
  return {
    shards,
    partitionKey: "PK",
    sortKey: "SK",
    sagaKey: (sagaName, sagaId) => ({
      PK: partition(sagaName, sagaId),
      SK: SAGA_SORT_PREFIX + sagaId,
    }),
    correlationKey: (sagaName, correlationId) => ({
      PK: partition(sagaName, correlationId),
      SK: CORRELATION_SORT_PREFIX + correlationId,
    }),
    sagaPartitions: (sagaName) => labels.map((label) => SAGA_PARTITION_PREFIX + sagaName + label),
    sagaSortPrefix: SAGA_SORT_PREFIX,
    correlationSortPrefix: CORRELATION_SORT_PREFIX,
    sagaIdFromSortKey: (sortKey) => sortKey.slice(SAGA_SORT_PREFIX.length),
    correlationIndexKey: (sagaName, correlationId) => ({
      GSI1PK: partition(sagaName, correlationId),
      GSI1SK: CORRELATION_SORT_PREFIX + correlationId,
    }),
    cleanupIndexKey: (sagaName, sagaId, completedAt) => ({
      GSI2PK: COMPLETED_PARTITION_PREFIX + completionDay(completedAt) + suffix(sagaId),
      GSI2SK: `${sagaName}#${sagaId}`,
    }),
    cleanupSortPrefix: (sagaName) => `${sagaName}#`,
    indexes: {
      // Keys only: no lookup reads it, and an update changes none of its attributes, so it
      // costs the index nothing.
      correlation: {
        partitionKey: "GSI1PK",
        sortKey: "GSI1SK",
        projection: { ProjectionType: "KEYS_ONLY" },
      },
      // Exactly what cleanup reads.
      cleanup: {
        partitionKey: "GSI2PK",
        sortKey: "GSI2SK",
        projection: {
          ProjectionType: "INCLUDE",
          NonKeyAttributes: ["sagaId", "correlationId", "completedAt"],
        },
      },
    },
    ttlAttribute: "expiresAt",
    completedAtAttribute: "completedAt",
    writeIdAttributes: ["writeId", "prevWriteId", "prevWriteId2", "prevWriteId3"],
  };
};

/** The seed README's layout: one partition per saga name, one cleanup partition per day. */
export const DEFAULT_LAYOUT: TableLayout = shardedLayout(1);

/**
 * Key of the item that records a sharded table's layout (`shards`). Saga names may not
 * contain `#`, so no saga item can have this key. Tables of the default layout have none.
 */
export const LAYOUT_MARKER_KEY: ItemKey = { PK: "#LAYOUT", SK: "#LAYOUT" };

/** Every key attribute of the layout (table and indexes): all strings. */
export const keyAttributes = (layout: TableLayout): string[] => [
  layout.partitionKey,
  layout.sortKey,
  layout.indexes.correlation.partitionKey,
  layout.indexes.correlation.sortKey,
  layout.indexes.cleanup.partitionKey,
  layout.indexes.cleanup.sortKey,
];
