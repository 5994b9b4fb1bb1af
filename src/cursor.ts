/**
 * Opaque pagination cursors for `findByName`: base64url of the last saga's sort key. The
 * partition is implied by the saga name, so a cursor can never lead into another name.
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
