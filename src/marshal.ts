/**
 * Saga state ⇄ item attributes.
 *
 * Metadata goes to top-level attributes (conditions and indexes need them); the
 * application's fields go to one JSON string, `state`. JSON because it is exact for every
 * finite double (DynamoDB numbers are not: 1e200 is rejected), because V8's JSON is far
 * cheaper than marshalling nested maps, and because its UTF-8 length is the item size.
 * JSON turns a Date into its ISO string; the paths of those Dates are kept in `stateDates`
 * so that reading brings back a `Date` with the exact millisecond.
 *
 * Before anything is written, one walk over the state rejects what JSON would silently
 * change: NaN/Infinity, BigInt, functions, symbols, Map/Set and other class instances,
 * invalid Dates, `undefined` in arrays and circular references.
 */
import type * as t from "io-ts";
import type { SagaState, SagaStateMetadata } from "./contract.js";
import { report, SagaItemCodec, SagaMetadataCodec, type SagaItem } from "./codecs.js";
import { InvalidItemError, InvalidStateError, type SagaStoreErrorInit } from "./errors.js";
import { describeType } from "./keys.js";

/** A path into the state: object keys and array indexes. */
export type StatePath = ReadonlyArray<string | number>;

/** An application's own codec for its saga state (decoding the in-memory value). */
export type StateCodec<TState> = t.Type<TState, unknown, unknown>;

/** Metadata fields that are written only when present. */
export const OPTIONAL_METADATA = [
  "archivedAt",
  "traceParent",
  "traceState",
  "timeoutMs",
  "timeoutExpiresAt",
] as const;

const DATE_METADATA = new Set<string>(["createdAt", "updatedAt", "archivedAt", "timeoutExpiresAt"]);

/** The attributes a state turns into, besides keys. */
export interface EncodedState {
  /** Metadata attributes (dates as ISO strings, `null` kept, absent left out). */
  readonly metadata: Readonly<Record<string, string | number | boolean | null>>;
  readonly state: string;
  /** JSON list of the paths of Dates inside `state`, when there are any. */
  readonly stateDates: string | undefined;
  readonly isCompleted: boolean;
  readonly version: number;
}

const formatPath = (path: StatePath): string =>
  path.length === 0
    ? "state"
    : "state" + path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("");

/**
 * Walks the application part of a state; returns the paths of its Dates, or throws
 * `InvalidStateError` naming the first value JSON would not bring back unchanged.
 */
export const findDates = (value: unknown, init: SagaStoreErrorInit): StatePath[] => {
  const dates: StatePath[] = [];
  const ancestors = new Set<object>();
  const path: Array<string | number> = [];

  const fail = (problem: string): never => {
    throw new InvalidStateError(`${formatPath(path)} ${problem}`, init);
  };

  const visit = (node: unknown, inArray: boolean): void => {
    switch (typeof node) {
      case "string":
      case "boolean":
        return;
      case "number":
        if (!Number.isFinite(node)) fail(`is ${node}, which JSON cannot hold`);
        return;
      case "undefined":
        // An undefined property is left out, as JSON does, and reads back as undefined;
        // an undefined array slot would come back as null, so it is refused.
        if (inArray) fail("is undefined inside an array");
        return;
      case "object":
        break;
      default:
        return fail(`is a ${typeof node}, which cannot be stored`);
    }
    if (node === null) return;
    if (node instanceof Date) {
      if (Number.isNaN(node.getTime())) fail("is an invalid Date");
      dates.push(path.slice());
      return;
    }
    if (ancestors.has(node)) fail("is a circular reference");
    const isArray = Array.isArray(node);
    if (!isArray) {
      const proto: unknown = Object.getPrototypeOf(node);
      if (proto !== Object.prototype && proto !== null) {
        fail(`is a ${describeType(node)}; only plain objects, arrays and Dates can be stored`);
      }
    }
    ancestors.add(node);
    if (isArray) {
      for (let i = 0; i < node.length; i++) {
        path.push(i);
        visit(node[i], true);
        path.pop();
      }
    } else {
      const record = node as Record<string, unknown>;
      for (const key in record) {
        path.push(key);
        visit(record[key], false);
        path.pop();
      }
    }
    ancestors.delete(node);
  };

  visit(value, false);
  return dates;
};

const isoOrNull = (value: Date | null): string | null =>
  value === null ? null : value.toISOString();

/**
 * Validates a state (metadata, the application's codec, the walk above) and encodes it.
 * Throws `InvalidStateError` before anything is sent.
 */
export const encodeState = <TState extends SagaState>(
  state: TState,
  init: SagaStoreErrorInit,
  stateCodec: StateCodec<TState> | undefined,
): EncodedState => {
  if (typeof state !== "object" || state === null) {
    throw new InvalidStateError(`expected an object, got ${describeType(state)}`, init);
  }
  const checkedMetadata = SagaMetadataCodec.decode(state.metadata);
  if (checkedMetadata._tag === "Left") {
    throw new InvalidStateError(`metadata: ${report(checkedMetadata)}`, init);
  }
  if (stateCodec !== undefined) {
    const checked = stateCodec.decode(state);
    if (checked._tag === "Left") throw new InvalidStateError(report(checked), init);
  }
  const { metadata, ...application } = state;
  const dates = findDates(application, init);
  return {
    metadata: encodeMetadata(metadata),
    state: JSON.stringify(application),
    stateDates: dates.length === 0 ? undefined : JSON.stringify(dates),
    isCompleted: metadata.isCompleted,
    version: metadata.version,
  };
};

const encodeMetadata = (
  metadata: SagaStateMetadata,
): Record<string, string | number | boolean | null> => {
  const out: Record<string, string | number | boolean | null> = {
    sagaId: metadata.sagaId,
    version: metadata.version,
    isCompleted: metadata.isCompleted,
    createdAt: metadata.createdAt.toISOString(),
    updatedAt: metadata.updatedAt.toISOString(),
  };
  for (const field of OPTIONAL_METADATA) {
    const value = metadata[field];
    if (value === undefined) continue;
    out[field] = value instanceof Date || value === null ? isoOrNull(value) : value;
  }
  return out;
};

/** Whether a metadata attribute holds a date (and decodes to `Date`). */
export const isDateMetadata = (field: string): boolean => DATE_METADATA.has(field);

const setAtPath = (root: unknown, path: StatePath): boolean => {
  if (path.length === 0) return false;
  let node = root as Record<string | number, unknown>;
  for (let i = 0; i < path.length - 1; i++) {
    const next = node[path[i]!];
    if (typeof next !== "object" || next === null) return false;
    node = next as Record<string | number, unknown>;
  }
  const last = path[path.length - 1]!;
  const iso = node[last];
  if (typeof iso !== "string") return false;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return false;
  node[last] = date;
  return true;
};

/** Decodes a stored saga item back into the state the application wrote. */
export const decodeSagaItem = <TState extends SagaState>(
  raw: unknown,
  init: SagaStoreErrorInit,
  stateCodec: StateCodec<TState> | undefined,
): { readonly state: TState; readonly item: SagaItem } => {
  const decoded = SagaItemCodec.decode(raw);
  if (decoded._tag === "Left") throw new InvalidItemError(report(decoded), init);
  const item = decoded.right;
  let application: unknown;
  let datePaths: unknown = [];
  try {
    application = JSON.parse(item.state);
    if (item.stateDates !== undefined) datePaths = JSON.parse(item.stateDates);
  } catch (cause) {
    throw new InvalidItemError(`state is not JSON (${String(cause)})`, init);
  }
  if (typeof application !== "object" || application === null || Array.isArray(application)) {
    throw new InvalidItemError("state is not a JSON object", init);
  }
  if (!Array.isArray(datePaths)) throw new InvalidItemError("stateDates is not a list", init);
  for (const path of datePaths as unknown[]) {
    if (!Array.isArray(path) || !setAtPath(application, path as StatePath)) {
      throw new InvalidItemError(`stateDates names no date at ${JSON.stringify(path)}`, init);
    }
  }
  const metadata: Record<string, unknown> = {
    sagaId: item.sagaId,
    version: item.version,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    isCompleted: item.isCompleted,
  };
  for (const field of OPTIONAL_METADATA) {
    if (item[field] !== undefined) metadata[field] = item[field];
  }
  const state = { ...(application as object), metadata } as unknown as TState;
  if (stateCodec === undefined) return { state, item };
  const checked = stateCodec.decode(state);
  if (checked._tag === "Left") {
    throw new InvalidItemError(`state fails the application's codec: ${report(checked)}`, init);
  }
  return { state: checked.right, item };
};
