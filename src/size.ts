/**
 * Item size as DynamoDB counts it: per attribute, the UTF-8 bytes of its name plus its
 * value (strings: UTF-8 bytes; numbers: at most 21 bytes; booleans and null: 1 byte).
 */

/** DynamoDB's maximum item size: 400 KB, names included. */
export const MAX_ITEM_BYTES = 400 * 1024;

const NUMBER_BYTES = 21;

const valueSize = (value: unknown): number => {
  switch (typeof value) {
    case "string":
      return Buffer.byteLength(value, "utf8");
    case "number":
      return NUMBER_BYTES;
    case "boolean":
      return 1;
    default:
      return value === null ? 1 : 0;
  }
};

/** Upper bound of the stored size of an item of scalar attributes (`undefined` ones skipped). */
export const itemSize = (attributes: Readonly<Record<string, unknown>>): number => {
  let size = 0;
  for (const name in attributes) {
    const value = attributes[name];
    if (value === undefined) continue;
    size += Buffer.byteLength(name, "utf8") + valueSize(value);
  }
  return size;
};
