/**
 * A trace of what each request touches: for every item and index entry a request reads or
 * writes, the table or index, its partition and sort key, its size and the capacity units it
 * cost. `createTraceRecorder` wraps a `Send` and records one entry per request; the
 * partition-heat model (`model.ts`) replays the trace, and the throttling wrapper of the tests
 * (`test/support/throttling-send.ts`) uses the same derivation to know which partitions a
 * request is about to use.
 *
 * Units come from DynamoDB (`ReturnConsumedCapacity: "INDEXES"`: table and per-index totals of
 * the request), shared out over the items of the request by their estimated units. A request
 * that failed reports none: a failed condition is charged (estimated by DynamoDB's rules), any
 * other failure costs nothing.
 *
 * Index entries are derived from the layout's index definitions (key attribute names and
 * projections), never from hard-coded attribute names: the trace remembers every item it saw
 * written, so an update or a delete knows which index entries it changes, adds or removes.
 *
 * @packageDocumentation
 */
import type { Projection } from "@aws-sdk/client-dynamodb";
import { DEFAULT_INDEX_NAMES } from "../../src/commands";
import { DEFAULT_LAYOUT, type TableLayout } from "../../src/layout";
import { commandName, type CommandName, type Send, type StoreCommand } from "../../src/request";
import { itemSize } from "../../src/size";

/** Whether an access reads or writes (the two have separate limits). */
export type AccessKind = "read" | "write";

/** An item as the document client holds it: attribute names to plain values. */
export type Item = Readonly<Record<string, unknown>>;

/** One item or index entry a request read or wrote, and what it cost. */
export interface Touch {
  readonly table: string;
  /** The global secondary index, or `null` for the table itself. */
  readonly index: string | null;
  readonly kind: AccessKind;
  /**
   * The partition key value; `null` when the access is not one key (a scan), or when
   * DynamoDB reported index units the trace cannot place.
   */
  readonly partitionKey: string | null;
  /** The sort key value (of the index, for an index entry); `null` when unknown. */
  readonly sortKey: string | null;
  /** Item (or index entry) size in bytes, as DynamoDB counts it (estimated). */
  readonly bytes: number;
  readonly units: number;
  /** Units DynamoDB reported (shared over the request's items), or estimated by its rules. */
  readonly reported: boolean;
}

/** One request of a trace. */
export interface TracedRequest {
  /** Sequence number, in the order requests were sent. */
  readonly id: number;
  /** Milliseconds on the recorder's clock when the request was sent. */
  readonly at: number;
  readonly durationMs: number;
  /** What the request was made for (the saga type of the store that sent it). */
  readonly label: string | null;
  readonly command: CommandName;
  /** The error's name when the request failed. */
  readonly error: string | null;
  readonly touches: readonly Touch[];
}

/** A global secondary index: its name and its layout. */
export interface IndexSpec {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly projection: Projection;
}

/** The key attributes of the table and its indexes: what the trace needs of a layout. */
export interface KeySchema {
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly indexes: readonly IndexSpec[];
}

/** Index names of a table (the store's `correlationIndexName`, `cleanupIndexName`). */
export interface IndexNames {
  readonly correlationIndexName: string;
  readonly cleanupIndexName: string;
}

/** The key schema of a layout, with the table's index names. */
export const keySchemaOf = (
  layout: TableLayout = DEFAULT_LAYOUT,
  names: IndexNames = DEFAULT_INDEX_NAMES,
): KeySchema => ({
  partitionKey: layout.partitionKey,
  sortKey: layout.sortKey,
  indexes: [
    { name: names.correlationIndexName, ...layout.indexes.correlation },
    { name: names.cleanupIndexName, ...layout.indexes.cleanup },
  ],
});

/** The items a trace has seen written, by table and primary key. */
export type ItemMemory = Map<string, Item>;

const memoryKey = (table: string, partitionKey: unknown, sortKey: unknown): string =>
  `${table}\u0000${String(partitionKey)}\u0000${String(sortKey)}`;

/**
 * One item a request reads or writes in the table, or the range of an index or table a query
 * or scan reads, before capacity is known.
 */
export interface ItemAccess {
  /** Position of the action in a transaction or batch (0 for a single-item request). */
  readonly action: number;
  readonly table: string;
  /** The index a query or scan reads; `null` for the table. */
  readonly index: string | null;
  readonly kind: AccessKind;
  readonly partitionKey: string | null;
  readonly sortKey: string | null;
  /** Writes: the item before (`null`: absent, `undefined`: unknown to the trace) and after. */
  readonly before?: Item | null | undefined;
  readonly after?: Item | null | undefined;
  readonly bytes: number;
  /** Units by DynamoDB's rules, used to share reported units and when none are reported. */
  readonly estimate: number;
  /** Transactions cost twice (2 write units per KB). */
  readonly transactional: boolean;
}

const KB = 1024;
const READ_UNIT_BYTES = 4 * KB;

/** Write units of `bytes` (1 per started KB, at least 1), doubled in a transaction. */
export const writeUnits = (bytes: number, transactional: boolean): number =>
  Math.max(1, Math.ceil(bytes / KB)) * (transactional ? 2 : 1);

/** Read units of `bytes` (1 per started 4 KB, at least 1), halved when eventually consistent. */
export const readUnits = (bytes: number, consistent: boolean): number =>
  Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES)) * (consistent ? 1 : 0.5);

const asRecord = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};

const asString = (value: unknown): string | null =>
  typeof value === "string" ? value : typeof value === "number" ? String(value) : null;

const namesOf = (input: Record<string, unknown>): Record<string, string> =>
  asRecord(input.ExpressionAttributeNames) as Record<string, string>;

/** An attribute path's top-level name, with `#placeholders` resolved. */
const attributeName = (path: string, names: Record<string, string>): string => {
  const head = path.trim().split(/[.[]/)[0] ?? "";
  return head.startsWith("#") ? (names[head] ?? head) : head;
};

/** Splits at top-level commas (not those inside a function call's parentheses). */
const splitTopLevel = (text: string): string[] => {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((part) => part.trim()).filter((part) => part.length > 0);
};

const CLAUSE = /\b(SET|REMOVE|ADD|DELETE)\b/gi;

/** The clauses of an update expression, by keyword. */
const clausesOf = (expression: string): Array<[string, string]> => {
  const marks = [...expression.matchAll(CLAUSE)];
  return marks.map((mark, i) => [
    mark[1]!.toUpperCase(),
    expression.slice(mark.index! + mark[0].length, marks[i + 1]?.index ?? expression.length),
  ]);
};

/**
 * The item an update expression leaves, from the item before it. Handles what stores write:
 * `SET a = :v`, `SET a = if_not_exists(a, :v)`, `REMOVE a, b` and `ADD a :n`; any other
 * right-hand side takes its first value placeholder (an estimate, for sizes and index keys).
 */
export const applyUpdate = (
  before: Item,
  expression: string,
  names: Record<string, string>,
  values: Record<string, unknown>,
): Item => {
  const after: Record<string, unknown> = { ...before };
  for (const [clause, body] of clausesOf(expression)) {
    for (const action of splitTopLevel(body)) {
      if (clause === "REMOVE") {
        delete after[attributeName(action, names)];
        continue;
      }
      if (clause === "SET") {
        const eq = action.indexOf("=");
        const name = attributeName(action.slice(0, eq), names);
        const rhs = action.slice(eq + 1).trim();
        const placeholder = /:[\w]+/.exec(rhs)?.[0];
        if (placeholder === undefined) continue;
        if (/^if_not_exists\s*\(/i.test(rhs) && after[name] !== undefined) continue;
        after[name] = values[placeholder];
        continue;
      }
      if (clause === "ADD") {
        const [path, placeholder] = action.split(/\s+/);
        const name = attributeName(path ?? "", names);
        const value = values[placeholder ?? ""];
        const current = after[name];
        after[name] =
          typeof current === "number" && typeof value === "number" ? current + value : value;
      }
      // DELETE (from a set) changes no key and barely the size: ignored.
    }
  }
  return after;
};

const KEY_CONDITION =
  /(#?[\w]+)\s*(=|<=|>=|<|>|BETWEEN)\s*(:[\w]+)|begins_with\s*\(\s*(#?[\w]+)\s*,\s*(:[\w]+)\s*\)/gi;

/** The partition key value of a key condition, and the first value bound to the sort key. */
export const keyConditionValues = (
  expression: string,
  names: Record<string, string>,
  values: Record<string, unknown>,
  partitionKey: string,
  sortKey: string,
): { partitionKey: string | null; sortKey: string | null } => {
  let pk: string | null = null;
  let sk: string | null = null;
  for (const match of expression.matchAll(KEY_CONDITION)) {
    const name = attributeName(match[1] ?? match[4] ?? "", names);
    const value = asString(values[match[3] ?? match[5] ?? ""]);
    if (name === partitionKey && match[2] === "=") pk ??= value;
    else if (name === sortKey) sk ??= value;
  }
  return { partitionKey: pk, sortKey: sk };
};

/** The key attribute names of the table or index a query or scan reads. */
const keysOfTarget = (schema: KeySchema, index: string | null): [string, string] => {
  const spec = schema.indexes.find((candidate) => candidate.name === index);
  return spec === undefined
    ? [schema.partitionKey, schema.sortKey]
    : [spec.partitionKey, spec.sortKey];
};

const recall = (
  memory: ReadonlyMap<string, Item>,
  schema: KeySchema,
  table: string,
  key: Item,
): Item | undefined => memory.get(memoryKey(table, key[schema.partitionKey], key[schema.sortKey]));

/** A write of one item: its before and after, its size and estimated units. */
const itemWrite = (
  schema: KeySchema,
  memory: ReadonlyMap<string, Item>,
  action: number,
  table: string,
  key: Item,
  after: (before: Item | undefined) => Item | null,
  transactional: boolean,
): ItemAccess => {
  const before = recall(memory, schema, table, key);
  const next = after(before);
  // Writes are charged by the larger of the item before and after.
  const bytes = Math.max(itemSize(before ?? key), next === null ? 0 : itemSize(next));
  return {
    action,
    table,
    index: null,
    kind: "write",
    partitionKey: asString(key[schema.partitionKey]),
    sortKey: asString(key[schema.sortKey]),
    before: before ?? null,
    after: next,
    bytes,
    estimate: writeUnits(bytes, transactional),
    transactional,
  };
};

/** A delete's item afterwards (none), or that of a write that leaves the item as it is. */
const removedOrKept =
  (deletes: boolean) =>
  (before: Item | undefined): Item | null =>
    deletes ? null : (before ?? null);

/** A read of the one item at `key`, sized by what the trace remembers of it. */
const pointRead = (
  schema: KeySchema,
  memory: ReadonlyMap<string, Item>,
  action: number,
  table: string,
  key: Item,
  consistent: boolean,
): ItemAccess => {
  const known = recall(memory, schema, table, key);
  const bytes = known === undefined ? 0 : itemSize(known);
  return {
    action,
    table,
    index: null,
    kind: "read",
    partitionKey: asString(key[schema.partitionKey]),
    sortKey: asString(key[schema.sortKey]),
    bytes,
    estimate: readUnits(bytes, consistent),
    transactional: false,
  };
};

const keyOf = (schema: KeySchema, item: Item): Item => ({
  [schema.partitionKey]: item[schema.partitionKey],
  [schema.sortKey]: item[schema.sortKey],
});

/** The accesses of one action of a transaction (Put, Update, Delete or ConditionCheck). */
const transactionAction = (
  schema: KeySchema,
  memory: ReadonlyMap<string, Item>,
  entry: unknown,
  action: number,
): ItemAccess | undefined => {
  const { Put, Update, Delete, ConditionCheck } = asRecord(entry);
  if (Put !== undefined) {
    const put = asRecord(Put);
    const item = asRecord(put.Item);
    return itemWrite(
      schema,
      memory,
      action,
      String(put.TableName),
      keyOf(schema, item),
      () => item,
      true,
    );
  }
  if (Update !== undefined) {
    const update = asRecord(Update);
    return updateAccess(schema, memory, update, action, true);
  }
  const target = asRecord(Delete ?? ConditionCheck);
  if (Delete === undefined && ConditionCheck === undefined) return undefined;
  const key = asRecord(target.Key);
  return itemWrite(
    schema,
    memory,
    action,
    String(target.TableName),
    key,
    removedOrKept(Delete !== undefined),
    true,
  );
};

const updateAccess = (
  schema: KeySchema,
  memory: ReadonlyMap<string, Item>,
  input: Record<string, unknown>,
  action: number,
  transactional: boolean,
): ItemAccess => {
  const key = asRecord(input.Key);
  return itemWrite(
    schema,
    memory,
    action,
    String(input.TableName),
    key,
    (before) =>
      applyUpdate(
        before ?? key,
        String(input.UpdateExpression ?? ""),
        namesOf(input),
        asRecord(input.ExpressionAttributeValues),
      ),
    transactional,
  );
};

/** `name = ?` pairs of a PartiQL statement, in parameter order. */
const statementKeys = (statement: string, parameters: readonly unknown[]): Map<string, unknown> => {
  const bound = new Map<string, unknown>();
  let parameter = 0;
  for (let i = 0; i < statement.length; i++) {
    if (statement[i] !== "?") continue;
    const name = /("?)([\w]+)\1\s*=\s*$/.exec(statement.slice(0, i))?.[2];
    if (name !== undefined && !bound.has(name)) bound.set(name, parameters[parameter]);
    parameter++;
  }
  return bound;
};

/** The access of one PartiQL statement on a single item (`WHERE PK = ? AND SK = ?`). */
const statementAccess = (
  schema: KeySchema,
  memory: ReadonlyMap<string, Item>,
  entry: unknown,
  action: number,
): ItemAccess | undefined => {
  const { Statement, Parameters } = asRecord(entry);
  const statement = String(Statement ?? "");
  const table = /(?:FROM|UPDATE|INTO)\s+"([^"]+)"/i.exec(statement)?.[1];
  if (table === undefined) return undefined;
  const bound = statementKeys(statement, Array.isArray(Parameters) ? Parameters : []);
  const key: Item = {
    [schema.partitionKey]: bound.get(schema.partitionKey),
    [schema.sortKey]: bound.get(schema.sortKey),
  };
  const verb = statement.trimStart().slice(0, 6).toUpperCase();
  if (verb === "SELECT") return pointRead(schema, memory, action, table, key, false);
  // DELETE removes the item; an UPDATE or INSERT is sized but changes no index the trace knows.
  return itemWrite(schema, memory, action, table, key, removedOrKept(verb === "DELETE"), false);
};

/** The range a query or scan reads. */
const rangeRead = (
  schema: KeySchema,
  input: Record<string, unknown>,
  scan: boolean,
): ItemAccess => {
  const index = typeof input.IndexName === "string" ? input.IndexName : null;
  const [pkName, skName] = keysOfTarget(schema, index);
  const start = asRecord(input.ExclusiveStartKey);
  const condition = scan
    ? { partitionKey: null, sortKey: null }
    : keyConditionValues(
        String(input.KeyConditionExpression ?? ""),
        namesOf(input),
        asRecord(input.ExpressionAttributeValues),
        pkName,
        skName,
      );
  return {
    action: 0,
    table: String(input.TableName),
    index,
    kind: "read",
    partitionKey: condition.partitionKey,
    sortKey: asString(start[skName]) ?? condition.sortKey,
    bytes: 0,
    estimate: readUnits(0, input.ConsistentRead === true),
    transactional: false,
  };
};

/**
 * What a request is about to read or write in the table, from its input and the items the
 * trace remembers. Index entries follow from each write's before and after (`indexTouches`).
 */
export const accessesOf = (
  command: CommandName,
  input: unknown,
  schema: KeySchema,
  memory: ReadonlyMap<string, Item>,
): ItemAccess[] => {
  const request = asRecord(input);
  switch (command) {
    case "GetItem":
      return [
        pointRead(
          schema,
          memory,
          0,
          String(request.TableName),
          asRecord(request.Key),
          request.ConsistentRead === true,
        ),
      ];
    case "Query":
      return [rangeRead(schema, request, false)];
    case "Scan":
      return [rangeRead(schema, request, true)];
    case "UpdateItem":
      return [updateAccess(schema, memory, request, 0, false)];
    case "TransactWriteItems":
      return (Array.isArray(request.TransactItems) ? request.TransactItems : [])
        .map((entry, action) => transactionAction(schema, memory, entry, action))
        .filter((access): access is ItemAccess => access !== undefined);
    case "BatchExecuteStatement":
      return (Array.isArray(request.Statements) ? request.Statements : [])
        .map((entry, action) => statementAccess(schema, memory, entry, action))
        .filter((access): access is ItemAccess => access !== undefined);
    default:
      return [];
  }
};

/** The entry an item has in an index (`null`: none, the index is sparse), as it projects it. */
export const indexEntry = (
  schema: KeySchema,
  index: IndexSpec,
  item: Item | null | undefined,
): Item | null => {
  if (item === null || item === undefined) return null;
  const pk = item[index.partitionKey];
  const sk = item[index.sortKey];
  if (asString(pk) === null || asString(sk) === null) return null;
  const keys: Record<string, unknown> = {
    [schema.partitionKey]: item[schema.partitionKey],
    [schema.sortKey]: item[schema.sortKey],
    [index.partitionKey]: pk,
    [index.sortKey]: sk,
  };
  switch (index.projection.ProjectionType) {
    case "ALL":
      return { ...item };
    case "INCLUDE":
      for (const name of index.projection.NonKeyAttributes ?? []) {
        if (item[name] !== undefined) keys[name] = item[name];
      }
      return keys;
    default:
      return keys;
  }
};

const sameEntry = (a: Item, b: Item): boolean => {
  const names = Object.keys(a);
  if (names.length !== Object.keys(b).length) return false;
  return names.every((name) => JSON.stringify(a[name]) === JSON.stringify(b[name]));
};

/** An index entry written by one write access. */
export interface IndexWrite {
  readonly access: ItemAccess;
  readonly index: IndexSpec;
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly bytes: number;
  readonly estimate: number;
}

/**
 * The index entries one write adds, changes or removes: a write costs an index only when the
 * entry it projects changes, and a changed index key is a delete and a put.
 */
export const indexWrites = (schema: KeySchema, access: ItemAccess): IndexWrite[] => {
  if (access.kind !== "write" || access.after === undefined) return [];
  const writes: IndexWrite[] = [];
  for (const index of schema.indexes) {
    const was = indexEntry(schema, index, access.before);
    const now = indexEntry(schema, index, access.after);
    const entry = (item: Item, bytes: number): IndexWrite => ({
      access,
      index,
      partitionKey: asString(item[index.partitionKey])!,
      sortKey: asString(item[index.sortKey])!,
      bytes,
      estimate: writeUnits(bytes, access.transactional),
    });
    const moved =
      was === null ||
      now === null ||
      was[index.partitionKey] !== now[index.partitionKey] ||
      was[index.sortKey] !== now[index.sortKey];
    if (!moved) {
      if (!sameEntry(was, now)) writes.push(entry(now, Math.max(itemSize(was), itemSize(now))));
      continue;
    }
    if (was !== null) writes.push(entry(was, itemSize(was)));
    if (now !== null) writes.push(entry(now, itemSize(now)));
  }
  return writes;
};

/** A touch together with the action of the request it belongs to. */
export interface ActionTouch extends Touch {
  readonly action: number;
}

const tableTouch = (access: ItemAccess, units: number, reported: boolean): ActionTouch => ({
  action: access.action,
  table: access.table,
  index: access.index,
  kind: access.kind,
  partitionKey: access.partitionKey,
  sortKey: access.sortKey,
  bytes: access.bytes,
  units,
  reported,
});

const indexTouch = (write: IndexWrite, units: number, reported: boolean): ActionTouch => ({
  action: write.access.action,
  table: write.access.table,
  index: write.index.name,
  kind: "write",
  partitionKey: write.partitionKey,
  sortKey: write.sortKey,
  bytes: write.bytes,
  units,
  reported,
});

/**
 * The touches of a request before it is sent, with units estimated by DynamoDB's rules: what
 * a throttling wrapper charges.
 */
export const estimatedTouches = (
  schema: KeySchema,
  accesses: readonly ItemAccess[],
): ActionTouch[] => [
  ...accesses.map((access) => tableTouch(access, access.estimate, false)),
  ...accesses
    .flatMap((access) => indexWrites(schema, access))
    .map((write) => indexTouch(write, write.estimate, false)),
];

/** Capacity units DynamoDB reported, by table and by index. */
export interface ReportedUnits {
  /** Table name → units of the table itself (indexes excluded). */
  readonly tables: ReadonlyMap<string, number>;
  /** `table\u0000index` → units of that index. */
  readonly indexes: ReadonlyMap<string, number>;
}

interface UnitsShape {
  readonly CapacityUnits?: number;
  readonly ReadCapacityUnits?: number;
  readonly WriteCapacityUnits?: number;
}

interface ConsumedShape extends UnitsShape {
  readonly TableName?: string;
  readonly Table?: UnitsShape;
  readonly GlobalSecondaryIndexes?: Readonly<Record<string, UnitsShape>>;
}

const unitsOf = (units: UnitsShape | undefined, kind: AccessKind): number =>
  (kind === "read" ? units?.ReadCapacityUnits : units?.WriteCapacityUnits) ??
  units?.CapacityUnits ??
  0;

/**
 * The units of an answer's `ConsumedCapacity` (one entry, or one per table), or `undefined`
 * when it has none (DynamoDB Local reports none for `BatchExecuteStatement`).
 */
export const reportedUnits = (output: unknown, kind: AccessKind): ReportedUnits | undefined => {
  const consumed = asRecord(output).ConsumedCapacity as ConsumedShape | ConsumedShape[] | undefined;
  if (consumed === undefined) return undefined;
  const tables = new Map<string, number>();
  const indexes = new Map<string, number>();
  for (const entry of Array.isArray(consumed) ? consumed : [consumed]) {
    const table = String(entry.TableName);
    let indexTotal = 0;
    for (const [name, units] of Object.entries(entry.GlobalSecondaryIndexes ?? {})) {
      const value = unitsOf(units, kind);
      indexTotal += value;
      indexes.set(`${table}\u0000${name}`, (indexes.get(`${table}\u0000${name}`) ?? 0) + value);
    }
    // Without the per-table figure ("TOTAL"), the table's own units are the rest.
    const own =
      entry.Table === undefined ? unitsOf(entry, kind) - indexTotal : unitsOf(entry.Table, kind);
    tables.set(table, (tables.get(table) ?? 0) + own);
  }
  return { tables, indexes };
};

/** Shares `total` over `weights` in proportion (equally when they are all zero). */
export const shareOut = (total: number, weights: readonly number[]): number[] => {
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((weight) =>
    sum > 0 ? (total * weight) / sum : weights.length > 0 ? total / weights.length : 0,
  );
};

/** Bytes a query or scan returned, or a get's item when the trace did not know it. */
const readBytes = (access: ItemAccess, output: unknown): number => {
  if (access.kind !== "read" || access.bytes > 0) return access.bytes;
  const answer = asRecord(output);
  if (answer.Item !== undefined) return itemSize(asRecord(answer.Item));
  if (Array.isArray(answer.Items)) {
    return answer.Items.reduce((sum: number, item) => sum + itemSize(asRecord(item)), 0);
  }
  return 0;
};

/**
 * The touches of a request that succeeded: the units DynamoDB reported for the table and each
 * index, shared over the items and entries by their estimated units. Index units that no
 * derived entry can take (a write the trace could not follow) become a touch without a key.
 */
export const answeredTouches = (
  schema: KeySchema,
  accesses: readonly ItemAccess[],
  output: unknown,
): ActionTouch[] => {
  const kind: AccessKind = accesses.every((access) => access.kind === "read") ? "read" : "write";
  const reported = reportedUnits(output, kind);
  if (reported === undefined) return estimatedTouches(schema, accesses);
  const sized = accesses.map((access) => ({ ...access, bytes: readBytes(access, output) }));
  const touches: ActionTouch[] = [];
  const byTarget = new Map<string, ItemAccess[]>();
  for (const access of sized) {
    const target = access.index === null ? access.table : `${access.table}\u0000${access.index}`;
    byTarget.set(target, [...(byTarget.get(target) ?? []), access]);
  }
  for (const [target, group] of byTarget) {
    const total = target.includes("\u0000")
      ? (reported.indexes.get(target) ?? 0)
      : (reported.tables.get(target) ?? 0);
    const units = shareOut(
      total,
      group.map((access) => access.estimate),
    );
    group.forEach((access, i) => touches.push(tableTouch(access, units[i]!, true)));
  }
  const writes = sized.flatMap((access) => indexWrites(schema, access));
  for (const [target, total] of reported.indexes) {
    const [table, index] = target.split("\u0000") as [string, string];
    // A query of an index is charged to the index: already placed above.
    if (sized.some((access) => access.table === table && access.index === index)) continue;
    const group = writes.filter(
      (write) => write.access.table === table && write.index.name === index,
    );
    if (group.length === 0) {
      if (total > 0) {
        touches.push({
          action: 0,
          table,
          index,
          kind,
          partitionKey: null,
          sortKey: null,
          bytes: 0,
          units: total,
          reported: true,
        });
      }
      continue;
    }
    const units = shareOut(
      total,
      group.map((write) => write.estimate),
    );
    group.forEach((write, i) => touches.push(indexTouch(write, units[i]!, true)));
  }
  return touches;
};

/**
 * Whether DynamoDB charges a failed request: a condition that did not hold is charged as the
 * write it would have been; throttling, conflicts and errors are not.
 */
const chargedFailure = (error: unknown): boolean => {
  const { name, CancellationReasons } = asRecord(error);
  if (name === "ConditionalCheckFailedException") return true;
  return (
    name === "TransactionCanceledException" &&
    Array.isArray(CancellationReasons) &&
    CancellationReasons.some((reason) => asRecord(reason).Code === "ConditionalCheckFailed")
  );
};

/**
 * The touches of a failed request: a failed condition is charged for the table's items
 * (estimated, since no units come back) and writes no index; any other failure costs nothing.
 */
export const failedTouches = (accesses: readonly ItemAccess[], error: unknown): ActionTouch[] => {
  const charged = chargedFailure(error);
  return accesses.map((access) =>
    tableTouch(access, charged && access.kind === "write" ? access.estimate : 0, false),
  );
};

/**
 * Records in `memory` what a request that succeeded left in the table. Statements of a batch
 * that failed (`Responses[i].Error`) changed nothing; neither did a get.
 */
export const remember = (
  memory: ItemMemory,
  accesses: readonly ItemAccess[],
  output: unknown,
): void => {
  const responses = asRecord(output).Responses;
  for (const access of accesses) {
    if (access.kind !== "write" || access.after === undefined) continue;
    if (Array.isArray(responses) && asRecord(responses[access.action]).Error !== undefined)
      continue;
    const key = memoryKey(access.table, access.partitionKey, access.sortKey);
    if (access.after === null) memory.delete(key);
    else memory.set(key, access.after);
  }
};

/** Options of {@link createTraceRecorder}. */
export interface TraceRecorderOptions {
  /** The item layout of the table. Default: `DEFAULT_LAYOUT`. */
  readonly layout?: TableLayout;
  /** The table's index names. Default: `GSI1`, `GSI2`. */
  readonly indexNames?: IndexNames;
  /** Milliseconds; default `performance.now`. */
  readonly clock?: () => number;
}

/** Records the requests of one or more `send`s. */
export interface TraceRecorder {
  /** A `send` that records each request it performs, labelled (with its saga type). */
  wrap(send: Send, label?: string): Send;
  /** The requests recorded so far, in the order they were sent. */
  requests(): TracedRequest[];
}

/**
 * A recorder of traces. Every request through a wrapped `send` asks DynamoDB for
 * `ReturnConsumedCapacity: "INDEXES"` (the store's own metering reads the same totals), and
 * its touches are recorded when it ends.
 */
export const createTraceRecorder = (options: TraceRecorderOptions = {}): TraceRecorder => {
  const schema = keySchemaOf(options.layout, options.indexNames);
  const clock = options.clock ?? (() => performance.now());
  const memory: ItemMemory = new Map();
  const recorded: TracedRequest[] = [];
  let sequence = 0;
  const wrap =
    (send: Send, label?: string): Send =>
    async (command: StoreCommand) => {
      const name = commandName(command);
      const input = command.input as { ReturnConsumedCapacity?: string };
      input.ReturnConsumedCapacity = "INDEXES";
      const accesses = accessesOf(name, input, schema, memory);
      const id = sequence++;
      const at = clock();
      const entry = (error: string | null, touches: readonly ActionTouch[]) =>
        recorded.push({
          id,
          at,
          durationMs: clock() - at,
          label: label ?? null,
          command: name,
          error,
          touches: touches.map(({ action: _action, ...touch }) => touch),
        });
      try {
        const output = await send(command);
        entry(null, answeredTouches(schema, accesses, output));
        remember(memory, accesses, output);
        return output;
      } catch (error) {
        entry(String(asRecord(error).name ?? "Error"), failedTouches(accesses, error));
        throw error;
      }
    };
  return {
    wrap,
    requests: () => [...recorded].sort((a, b) => a.id - b.id),
  };
};
