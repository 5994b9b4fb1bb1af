/**
 * What may be used in a key: saga names, saga ids and correlation ids are checked here, before
 * any request, against limits that keep every key the layout (layout.ts) builds under
 * DynamoDB's. Why names may not contain `#`: the cleanup index is searched by the prefix
 * `<name>#`, and a name `A` must never match the items of a name `A#B`. Ids and correlation
 * ids may contain `#`: they always sit after a fixed prefix, at the end of a key whose
 * partition is exact.
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
