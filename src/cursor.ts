/**
 * Opaque pagination cursors for `findByName`. One partition per name: base64url of the last
 * saga's sort key. Several (a sharded layout): base64url of the JSON list of each shard's
 * position (the last sort key read from it, `""` before its first page, `null` once read to
 * the end). Partitions are implied by the saga name, so a cursor never leads into another name.
 */
import { ConfigurationError } from "./errors.js";
import { DEFAULT_LAYOUT } from "./layout.js";

/** Cursor for the page after the item with this sort key. */
export const encodeCursor = (sortKey: string): string =>
  Buffer.from(sortKey, "utf8").toString("base64url");

/** Sort key back from a cursor; throws `ConfigurationError` (`cursor.invalid`) if it is not one. */
export const decodeCursor = (cursor: string): string => {
  const sortKey =
    typeof cursor === "string" ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  if (!sortKey.startsWith(DEFAULT_LAYOUT.sagaSortPrefix) || encodeCursor(sortKey) !== cursor) {
    throw new ConfigurationError(
      "cursor.invalid",
      `not a findByName cursor: ${JSON.stringify(cursor)}`,
    );
  }
  return sortKey;
};

/** A shard's position: `""` not started, a sort key read up to, or `null` read to the end. */
export type ShardPosition = string | null;

/** Cursor of the page after `positions` (one per shard). */
export const encodeShardCursor = (positions: readonly ShardPosition[]): string =>
  Buffer.from(JSON.stringify(positions), "utf8").toString("base64url");

/** Positions back from a cursor of `shards` shards; throws `ConfigurationError` otherwise. */
export const decodeShardCursor = (cursor: string, shards: number): ShardPosition[] => {
  let positions: unknown;
  try {
    positions = JSON.parse(Buffer.from(String(cursor), "base64url").toString("utf8"));
  } catch {
    positions = undefined;
  }
  const valid =
    Array.isArray(positions) &&
    positions.length === shards &&
    positions.every(
      (p) =>
        p === null ||
        p === "" ||
        (typeof p === "string" && p.startsWith(DEFAULT_LAYOUT.sagaSortPrefix)),
    );
  if (!valid || encodeShardCursor(positions as ShardPosition[]) !== cursor) {
    throw new ConfigurationError(
      "cursor.invalid",
      `not a findByName cursor of ${shards} shards: ${JSON.stringify(cursor)}`,
    );
  }
  return positions as ShardPosition[];
};
