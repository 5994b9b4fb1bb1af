/**
 * Key layout of the single table, in one place.
 *
 * | item        | PK               | SK                   |
 * |-------------|------------------|----------------------|
 * | saga        | `SAGA#<name>`    | `ID#<sagaId>`        |
 * | correlation | `SAGA#<name>`    | `CORR#<correlation>` |
 *
 * Saga items also carry GSI1 (`SAGA#<name>` / `CORR#<correlation>`) and, while completed,
 * GSI2 (`COMPLETED#<YYYY-MM-DD>` / `<name>#<sagaId>`).
 *
 * Why names may not contain `#`: GSI2 is searched by the prefix `<name>#`, and a name `A`
 * must never match the items of a name `A#B`. Ids and correlation ids may contain `#`:
 * they always sit after a fixed prefix, at the end of a key whose partition is exact.
 */
import { InvalidKeyError, type SagaStoreErrorInit } from "./errors.js";

/** Byte limits chosen so every key built from them stays under DynamoDB's key limits. */
export const KEY_LIMITS = {
  /** PK ≤ 2048 bytes; `<name>#<id>` (GSI2 sort key) ≤ 1024 bytes. */
  sagaName: 200,
  sagaId: 800,
  /** `CORR#<correlation>` ≤ 1024 bytes. */
  correlationId: 1000,
} as const;

/** Primary key of an item. */
export interface ItemKey {
  readonly PK: string;
  readonly SK: string;
}

export const sagaPartition = (sagaName: string): string => `SAGA#${sagaName}`;
export const SAGA_SORT_PREFIX = "ID#";
export const CORRELATION_SORT_PREFIX = "CORR#";
export const COMPLETED_PARTITION_PREFIX = "COMPLETED#";

/** Key of a saga item. */
export const sagaKey = (sagaName: string, sagaId: string): ItemKey => ({
  PK: sagaPartition(sagaName),
  SK: SAGA_SORT_PREFIX + sagaId,
});

/** Key of the item that reserves a correlation id for one saga. */
export const correlationKey = (sagaName: string, correlationId: string): ItemKey => ({
  PK: sagaPartition(sagaName),
  SK: CORRELATION_SORT_PREFIX + correlationId,
});

/** GSI1 sort key: the correlation index. */
export const correlationIndexSortKey = (correlationId: string): string =>
  CORRELATION_SORT_PREFIX + correlationId;

/** GSI2 partition key: the UTC day a saga completed. */
export const completedPartition = (completedAt: Date): string =>
  COMPLETED_PARTITION_PREFIX + completedAt.toISOString().slice(0, 10);

/** GSI2 sort key prefix shared by every saga of one name. */
export const cleanupSortPrefix = (sagaName: string): string => `${sagaName}#`;

/** GSI2 sort key of one saga. */
export const cleanupSortKey = (sagaName: string, sagaId: string): string =>
  cleanupSortPrefix(sagaName) + sagaId;

/** Saga id back from a saga item's sort key. */
export const sagaIdFromSortKey = (sk: string): string => sk.slice(SAGA_SORT_PREFIX.length);

// C0 controls and DEL: invisible in consoles and logs, and a way to smuggle look-alike keys.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

const byteLength = (value: string): number => Buffer.byteLength(value, "utf8");

type KeyPart = "sagaName" | "sagaId" | "correlationId";

/** Why `value` cannot be used as `part`, or `undefined` when it can. */
export const keyProblem = (part: KeyPart, value: unknown): string | undefined => {
  if (typeof value !== "string") return `${part} must be a string, got ${describeType(value)}`;
  if (value.length === 0) return `${part} must not be empty`;
  if (part === "sagaName" && value.includes("#")) return `${part} must not contain "#"`;
  if (CONTROL_CHARACTER.test(value)) return `${part} must not contain control characters`;
  if (!value.isWellFormed()) return `${part} must not contain lone UTF-16 surrogates`;
  const bytes = byteLength(value);
  const limit = KEY_LIMITS[part];
  if (bytes > limit) return `${part} is ${bytes} bytes, over the limit of ${limit}`;
  return undefined;
};

/** Throws `InvalidKeyError` unless every given key part is usable. */
export const assertKeyParts = (
  parts: Partial<Record<KeyPart, unknown>>,
  init: SagaStoreErrorInit,
): void => {
  for (const part of ["sagaName", "sagaId", "correlationId"] as const) {
    if (!(part in parts)) continue;
    const problem = keyProblem(part, parts[part]);
    if (problem !== undefined) throw new InvalidKeyError(problem, init);
  }
};

/** `typeof`, but telling null, arrays and class instances apart, for error messages. */
export const describeType = (value: unknown): string => {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "object") {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) return "object";
    const ctor = (proto as { constructor?: { name?: string } }).constructor;
    return ctor?.name ? `${ctor.name} instance` : "object";
  }
  return typeof value;
};
