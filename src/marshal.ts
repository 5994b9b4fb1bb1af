/**
 * Saga state ⇄ item attributes.
 *
 * Metadata goes to top-level attributes (conditions and indexes need them); the
 * application's fields go to one JSON string, `state`. JSON because it is exact for every
 * finite double but -0, which comes back as 0 (DynamoDB numbers are not: 1e200 is
 * rejected), because V8's JSON is far
 * cheaper than marshalling nested maps, and because its UTF-8 length is the item size.
 * Each Date in it is written as its epoch milliseconds, and the paths of those Dates are
 * kept in `stateDates`, so that reading brings back a `Date` with the exact millisecond.
 *
 * Before anything is written, one walk over the state rejects what JSON would silently
 * change: NaN/Infinity, BigInt, functions, symbols, Map/Set and other class instances,
 * invalid Dates, `undefined` in arrays, named (non-index) properties of arrays, symbol keys
 * of objects, circular references (and nesting deeper than `MAX_STATE_DEPTH`).
 *
 * Error messages name paths and types, never values: they end up in logs and in saga-bus's
 * dead-letter header.
 */
import type * as t from "io-ts";
import type { SagaState, SagaStateMetadata } from "./contract.js";
import {
  decodeProblems,
  METADATA_FIELDS,
  report,
  type SagaItem,
  SagaItemCodec,
  SagaMetadataCodec,
  StoredMetadataCodec,
  summarizeProblems,
} from "./codecs.js";
import {
  clip,
  clipMiddle,
  InvalidItemError,
  InvalidStateError,
  type SagaStoreErrorInit,
} from "./errors.js";
import { describeType } from "./keys.js";
import type { StateCodec } from "./validation.js";

/** A path into the state: object keys and array indexes. */
export type StatePath = ReadonlyArray<string | number>;

/** An application's own io-ts codec for its saga state (defined with the other validators). */
export type { StateCodec } from "./validation.js";

export { OPTIONAL_METADATA } from "./codecs.js";

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

/** Longest path or key quoted in a message; the cut keeps both ends. */
const MAX_QUOTED_PATH = 100;

const formatPath = (path: StatePath): string =>
  clipMiddle(
    "state" + path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join(""),
    MAX_QUOTED_PATH,
  );

/** Why a decode failed, short enough for a message, and in full for `report`. */
const decodeFailure = (
  errors: t.Errors,
  root: string,
  init: SagaStoreErrorInit,
): [summary: string, init: SagaStoreErrorInit] => [
  summarizeProblems(decodeProblems(errors, root)),
  { ...init, report: report({ _tag: "Left", left: errors }, root) },
];

/** A value ready for `JSON.stringify`, and where its Dates were. */
export interface PreparedState {
  /** The value with every Date replaced by its epoch milliseconds (unchanged parts shared). */
  readonly value: unknown;
  /** Paths of the Dates that were replaced. */
  readonly dates: StatePath[];
}

/** Nesting deeper than this is refused (and is where a circular reference is looked for). */
export const MAX_STATE_DEPTH = 256;

/** The path of a circular reference inside `root`, if there is one. */
const findCycle = (root: unknown): StatePath | undefined => {
  const ancestors = new Set<object>();
  const path: Array<string | number> = [];
  const visit = (node: unknown): boolean => {
    if (typeof node !== "object" || node === null) return false;
    if (ancestors.has(node)) return true;
    ancestors.add(node);
    for (const key of Object.keys(node)) {
      path.push(Array.isArray(node) ? Number(key) : key);
      if (visit((node as Record<string, unknown>)[key])) return true;
      path.pop();
    }
    ancestors.delete(node);
    return false;
  };
  return visit(root) ? path : undefined;
};

/**
 * Walks the application part of a state: throws `InvalidStateError` naming the first value
 * JSON would not bring back unchanged, and replaces each Date by its epoch milliseconds,
 * copying only the objects and arrays on the way to a Date. (Letting `JSON.stringify` call
 * `toJSON` costs an ISO formatting per Date and pushes V8 off its fast path.)
 */
export const prepareState = (input: unknown, init: SagaStoreErrorInit): PreparedState => {
  const dates: StatePath[] = [];
  const path: Array<string | number> = [];

  const fail = (problem: string, at: StatePath = path): never => {
    throw new InvalidStateError(`${formatPath(at)} ${problem}`, init);
  };

  const failNamedProperty = (array: readonly unknown[]): void => {
    const named = Object.keys(array).find((key) => String(Number(key) >>> 0) !== key);
    if (named !== undefined) {
      fail(`is an array with a named property "${clip(named, 40)}", which JSON drops`);
    }
  };

  // JSON drops symbol keys. Only enumerable ones are data (the walk skips non-enumerable
  // string keys too); the check costs one call per object, the only way to see symbols.
  const failSymbolKey = (record: object): void => {
    for (const symbol of Object.getOwnPropertySymbols(record)) {
      if (Object.prototype.propertyIsEnumerable.call(record, symbol)) {
        fail(`has a symbol key (${clip(String(symbol), 40)}), which JSON drops`);
      }
    }
  };

  const visit = (node: unknown, inArray: boolean): unknown => {
    switch (typeof node) {
      case "string":
      case "boolean":
        return node;
      case "number":
        if (!Number.isFinite(node)) fail(`is ${node}, which JSON cannot hold`);
        return node;
      case "undefined":
        // An undefined property is left out, as JSON does, and reads back as undefined;
        // an undefined array slot would come back as null, so it is refused.
        if (inArray) fail("is undefined inside an array");
        return node;
      case "object":
        break;
      default:
        return fail(`is a ${typeof node}, which cannot be stored`);
    }
    if (node === null) return node;
    if (node instanceof Date) {
      const time = node.getTime();
      if (Number.isNaN(time)) fail("is an invalid Date");
      dates.push(path.slice());
      return time;
    }
    // A depth check instead of tracking ancestors keeps the common case fast; only past the
    // limit is the (rare) circular reference told apart from plain deep nesting.
    if (path.length >= MAX_STATE_DEPTH) {
      const cycle = findCycle(input);
      if (cycle !== undefined) fail("is a circular reference", cycle);
      fail(`is nested deeper than ${MAX_STATE_DEPTH} levels`);
    }
    if (Array.isArray(node)) {
      let items: unknown[] | undefined;
      for (let i = 0; i < node.length; i++) {
        path.push(i);
        const next = visit(node[i], true);
        path.pop();
        if (next !== node[i]) (items ??= node.slice())[i] = next;
      }
      // JSON drops an array's named properties (a RegExp match's `index`, say). Holes (fewer
      // keys) were refused above, so more keys than the length means one. (Symbol keys of
      // arrays are not looked for: that is one more call per array on the hot path.)
      if (Object.keys(node).length !== node.length) failNamedProperty(node);
      return items ?? node;
    }
    const proto: unknown = Object.getPrototypeOf(node);
    if (proto !== Object.prototype && proto !== null) {
      fail(`is a ${describeType(node)}; only plain objects, arrays and Dates can be stored`);
    }
    failSymbolKey(node);
    const record = node as Record<string, unknown>;
    let copy: Record<string, unknown> | undefined;
    for (const key in record) {
      path.push(key);
      const next = visit(record[key], false);
      path.pop();
      if (next !== record[key]) {
        copy ??= { ...record };
        // A key named "__proto__" must stay a plain property, not set the prototype.
        if (key === "__proto__")
          Object.defineProperty(copy, key, { value: next, enumerable: true });
        else copy[key] = next;
      }
    }
    return copy ?? node;
  };

  const value = visit(input, false);
  return { value, dates };
};

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
    throw new InvalidStateError(...decodeFailure(checkedMetadata.left, "state.metadata", init));
  }
  if (stateCodec !== undefined) {
    const checked = stateCodec.decode(state);
    if (checked._tag === "Left") {
      throw new InvalidStateError(...decodeFailure(checked.left, "state", init));
    }
  }
  const { metadata, ...application } = state;
  const prepared = prepareState(application, init);
  return {
    metadata: encodeMetadata(metadata),
    state: JSON.stringify(prepared.value),
    stateDates: prepared.dates.length === 0 ? undefined : JSON.stringify(prepared.dates),
    isCompleted: metadata.isCompleted,
    version: metadata.version,
  };
};

/** The metadata's attributes, by the stored codec: known fields only, absent ones left out. */
const encodeMetadata = (
  metadata: SagaStateMetadata,
): Record<string, string | number | boolean | null> => {
  const encoded = StoredMetadataCodec.encode(metadata) as Record<string, unknown>;
  const out: Record<string, string | number | boolean | null> = {};
  for (const field of METADATA_FIELDS) {
    const value = encoded[field];
    if (value !== undefined) out[field] = value as string | number | boolean | null;
  }
  return out;
};

const setAtPath = (root: unknown, path: StatePath): boolean => {
  if (path.length === 0) return false;
  let node = root as Record<string | number, unknown>;
  for (let i = 0; i < path.length - 1; i++) {
    const next = node[path[i]!];
    if (typeof next !== "object" || next === null) return false;
    node = next as Record<string | number, unknown>;
  }
  const last = path[path.length - 1]!;
  const stored = node[last];
  if (typeof stored !== "number") return false;
  const date = new Date(stored);
  if (Number.isNaN(date.getTime())) return false;
  node[last] = date;
  return true;
};

/** Parses a JSON attribute; the parser's message is dropped, as it quotes the text. */
const parseAttribute = (text: string, name: string, init: SagaStoreErrorInit): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidItemError(`${name} is not JSON`, init);
  }
};

/** Decodes a stored saga item back into the state the application wrote. */
export const decodeSagaItem = <TState extends SagaState>(
  raw: unknown,
  init: SagaStoreErrorInit,
  stateCodec: StateCodec<TState> | undefined,
): { readonly state: TState; readonly item: SagaItem } => {
  const decoded = SagaItemCodec.decode(raw);
  if (decoded._tag === "Left") {
    throw new InvalidItemError(...decodeFailure(decoded.left, "item", init));
  }
  const item = decoded.right;
  const application = parseAttribute(item.state, "state", init);
  const datePaths =
    item.stateDates === undefined ? [] : parseAttribute(item.stateDates, "stateDates", init);
  if (typeof application !== "object" || application === null || Array.isArray(application)) {
    throw new InvalidItemError("state is not a JSON object", init);
  }
  if (!Array.isArray(datePaths)) throw new InvalidItemError("stateDates is not a list", init);
  for (const path of datePaths as unknown[]) {
    if (!Array.isArray(path) || !setAtPath(application, path as StatePath)) {
      const where = clipMiddle(JSON.stringify(path), MAX_QUOTED_PATH);
      throw new InvalidItemError(`stateDates names no date at ${where}`, init);
    }
  }
  const metadata: Record<string, unknown> = {};
  for (const field of METADATA_FIELDS) {
    if (item[field] !== undefined) metadata[field] = item[field];
  }
  // `application` was just parsed and belongs to no one else: attach the metadata in place.
  (application as Record<string, unknown>).metadata = metadata;
  const state = application as unknown as TState;
  if (stateCodec === undefined) return { state, item };
  const checked = stateCodec.decode(state);
  if (checked._tag === "Left") {
    const [summary, withReport] = decodeFailure(checked.left, "state", init);
    throw new InvalidItemError(`state fails the application's codec: ${summary}`, withReport);
  }
  return { state: checked.right, item };
};
