/**
 * Items of the published 0.2.2 store, and the pure half of migrating them to today's layout.
 *
 * 0.2.2 keyed a saga `PK = <sagaName>`, `SK = <sagaId>` and stored the whole state, metadata
 * included, as a native map in `state`, with every Date written as `toISOString()`. Its
 * `update` wrote only `version`, `isCompleted`, `state` and `updatedAt`, so the top-level
 * `version`, `isCompleted`, `createdAt` and `updatedAt` are authoritative; the optional
 * metadata (`archivedAt`, `traceParent`, `traceState`, `timeoutMs`, `timeoutExpiresAt`)
 * exists only inside `state.metadata`.
 *
 * A migration of one saga is one transaction (`convertInput`): put today's saga item and its
 * correlation item, each only if absent, and delete the 0.2.2 item only while it still has
 * the version that was read. When the transaction is cancelled, `planMigration` decides the
 * next step from what DynamoDB reported, and never overwrites an item of today's layout.
 */
import type {
  GetCommandInput,
  ScanCommandInput,
  TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import {
  getCorrelationInput,
  INSERT_ACTIONS,
  insertInput,
  type TableNames,
  type WriteOptions,
} from "./commands.js";
import type { SagaState, SagaStateMetadata } from "./contract.js";
import { SagaStoreError } from "./errors.js";
import { attribute, type CancellationReason } from "./failures.js";
import { describeType, keyProblem } from "./keys.js";
import { DEFAULT_LAYOUT, type ItemKey } from "./layout.js";

// 0.2.x tables are migrated to the default layout.
const { correlationKey, correlationSortPrefix, sagaKey, sagaSortPrefix } = DEFAULT_LAYOUT;
import { encodeState, type EncodedState } from "./marshal.js";
import { itemSize, MAX_ITEM_BYTES } from "./size.js";

/** An item as the document client returns it. */
export type RawItem = Readonly<Record<string, unknown>>;

/** How to read 0.2.2 states. */
export interface LegacyReadOptions {
  /**
   * Turn every string of the application's fields that is exactly what 0.2.2 wrote for a
   * Date (`toISOString()` of a year 0000-9999) back into a `Date`. Default `true`. Turn it
   * off when the application keeps strings in that format that must stay strings; they then
   * stay strings, as 0.2.2 handed them back. Metadata dates always become Dates.
   */
  readonly reviveDates?: boolean;
}

/** A saga read from a 0.2.2 item: what today's store's `insert` takes. */
export interface LegacySaga {
  readonly sagaName: string;
  readonly correlationId: string;
  /** Metadata from the item (Dates as `Date`), the application's fields from its `state`. */
  readonly state: SagaState;
}

/** A saga read from a 0.2.2 item and encoded for today's layout. */
export interface PreparedMigration {
  readonly saga: LegacySaga;
  readonly encoded: EncodedState;
}

const isMap = (value: unknown): value is Readonly<Record<string, unknown>> => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/**
 * Whether an item was written by 0.2.2: its `state` is a map (today's store writes a JSON
 * string), its partition key is the bare saga name, and its sort key has neither of today's
 * prefixes (`ID#`, `CORR#`).
 */
export const isLegacyItem = (item: RawItem): boolean =>
  isMap(item.state) &&
  typeof item.PK === "string" &&
  item.PK === item.sagaName &&
  typeof item.SK === "string" &&
  !item.SK.startsWith(sagaSortPrefix) &&
  !item.SK.startsWith(correlationSortPrefix);

/** Key of a 0.2.2 saga item. */
export const legacyKey = (sagaName: string, sagaId: string): ItemKey => ({
  PK: sagaName,
  SK: sagaId,
});

/** What 0.2.2 wrote for a Date of a four-digit year: `Date.prototype.toISOString()`. */
export const LEGACY_ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The Date a string stands for when it is exactly what `toISOString()` writes (so it comes
 * back unchanged: `2024-02-30T…` does not), else `undefined`.
 */
export const reviveIsoDate = (text: string): Date | undefined => {
  if (!LEGACY_ISO_DATE.test(text)) return undefined;
  const date = new Date(text);
  return !Number.isNaN(date.getTime()) && date.toISOString() === text ? date : undefined;
};

/** Sets a property of a fresh copy; a key named `__proto__` stays a plain property. */
const setOwn = (target: Record<string, unknown>, key: string, value: unknown): void => {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else target[key] = value;
};

/**
 * `value` with every string `reviveIsoDate` accepts replaced by its Date, at any depth of
 * maps and lists. Only the maps and lists on the way to a Date are copied.
 */
export const reviveDates = (value: unknown): unknown => {
  if (typeof value === "string") return reviveIsoDate(value) ?? value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((element: unknown, i) => {
      const next = reviveDates(element);
      if (next !== element) (copy ??= value.slice())[i] = next;
    });
    return copy ?? value;
  }
  if (!isMap(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [key, element] of Object.entries(value)) {
    const next = reviveDates(element);
    if (next === element) continue;
    copy ??= copyMap(value);
    setOwn(copy, key, next);
  }
  return copy ?? value;
};

const copyMap = (value: Readonly<Record<string, unknown>>): Record<string, unknown> => {
  const copy: Record<string, unknown> = {};
  for (const [key, element] of Object.entries(value)) setOwn(copy, key, element);
  return copy;
};

type Read<A> = E.Either<string, A>;

/** A Date written by `toISOString()` (any year: metadata is not guessed at, it is typed). */
const isoDate = (value: unknown, what: string): Read<Date> => {
  if (typeof value !== "string") return E.left(`${what} is ${describeType(value)}, not a date`);
  const date = new Date(value);
  return !Number.isNaN(date.getTime()) && date.toISOString() === value
    ? E.right(date)
    : E.left(`${what} is not an ISO 8601 date as 0.2.2 wrote it`);
};

const keyPart = (part: "sagaName" | "sagaId" | "correlationId", value: unknown): Read<string> => {
  const problem = keyProblem(part, value);
  return problem === undefined ? E.right(value as string) : E.left(problem);
};

/** One optional metadata field: absent, null, or a value `read` accepts. */
const optional = <A>(
  metadata: RawItem,
  field: string,
  read: (value: unknown, what: string) => Read<A>,
): Read<Partial<Record<string, A | null>>> => {
  if (!(field in metadata) || metadata[field] === undefined) return E.right({});
  const value = metadata[field];
  if (value === null) return E.right({ [field]: null });
  return pipe(
    read(value, `state.metadata.${field}`),
    E.map((a) => ({ [field]: a })),
  );
};

const string = (value: unknown, what: string): Read<string> =>
  typeof value === "string" ? E.right(value) : E.left(`${what} is ${describeType(value)}`);

const finiteNumber = (value: unknown, what: string): Read<number> =>
  typeof value === "number" && Number.isFinite(value)
    ? E.right(value)
    : E.left(`${what} is ${describeType(value)}, not a number`);

/** The optional metadata 0.2.2 kept only inside `state.metadata`. */
const optionalMetadata = (metadata: RawItem): Read<Partial<SagaStateMetadata>> =>
  pipe(
    E.Do,
    E.apS("archivedAt", optional(metadata, "archivedAt", isoDate)),
    E.apS("traceParent", optional(metadata, "traceParent", string)),
    E.apS("traceState", optional(metadata, "traceState", string)),
    E.apS("timeoutMs", optional(metadata, "timeoutMs", finiteNumber)),
    E.apS("timeoutExpiresAt", optional(metadata, "timeoutExpiresAt", isoDate)),
    E.map((fields) => Object.assign({}, ...Object.values(fields)) as Partial<SagaStateMetadata>),
  );

const version = (value: unknown): Read<number> =>
  Number.isSafeInteger(value) && (value as number) >= 0
    ? E.right(value as number)
    : E.left(`version is ${describeType(value)}, not a non-negative integer`);

const boolean = (value: unknown, what: string): Read<boolean> =>
  typeof value === "boolean" ? E.right(value) : E.left(`${what} is ${describeType(value)}`);

/** The metadata of a 0.2.2 item: top-level attributes first, the optional rest from the state. */
const legacyMetadata = (item: RawItem, stateMetadata: RawItem): Read<SagaStateMetadata> =>
  pipe(
    E.Do,
    E.apS("sagaId", keyPart("sagaId", item.sagaId)),
    E.apS("version", version(item.version)),
    E.apS("createdAt", isoDate(item.createdAt, "createdAt")),
    E.apS("updatedAt", isoDate(item.updatedAt, "updatedAt")),
    E.apS("isCompleted", boolean(item.isCompleted, "isCompleted")),
    E.apS("optional", optionalMetadata(stateMetadata)),
    E.map(({ optional: rest, ...required }) => ({ ...required, ...rest })),
  );

/** `state.metadata` of a 0.2.2 item: a map, or absent (then no optional metadata). */
const stateMetadataOf = (state: RawItem): Read<RawItem> => {
  const metadata = state.metadata;
  if (metadata === undefined) return E.right({});
  return isMap(metadata)
    ? E.right(metadata)
    : E.left(`state.metadata is ${describeType(metadata)}, not a map`);
};

/** The application's fields of a 0.2.2 state: everything but `metadata`. */
const applicationFields = (state: RawItem, options: LegacyReadOptions): Record<string, unknown> => {
  const fields = copyMap(state);
  delete fields.metadata;
  return options.reviveDates === false ? fields : (reviveDates(fields) as Record<string, unknown>);
};

/**
 * Reads a 0.2.2 item into the saga today's store would have stored: the same saga id,
 * version, dates and fields. `Left` says why the item cannot be converted (not a 0.2.2 item,
 * a missing or mistyped attribute, a key today's store refuses), and nothing is converted.
 */
export const convertLegacyItem = (
  item: RawItem,
  options: LegacyReadOptions = {},
): Read<LegacySaga> => {
  if (!isMap(item.state)) return E.left("state is not a map: not a 0.2.2 item");
  const state = item.state;
  return pipe(
    E.Do,
    E.apS("sagaName", keyPart("sagaName", item.sagaName)),
    E.apS("correlationId", keyPart("correlationId", item.correlationId)),
    E.apS("stateMetadata", stateMetadataOf(state)),
    E.bind("metadata", ({ stateMetadata }) => legacyMetadata(item, stateMetadata)),
    E.chainFirst(({ sagaName, metadata }) =>
      item.PK === sagaName && item.SK === metadata.sagaId
        ? E.right(undefined)
        : E.left("the key (PK, SK) is not (sagaName, sagaId): not a 0.2.2 item"),
    ),
    E.chainFirst(() =>
      isLegacyItem(item)
        ? E.right(undefined)
        : E.left(
            `the sort key starts with today's prefix ${sagaSortPrefix} or ${correlationSortPrefix}`,
          ),
    ),
    E.map(({ sagaName, correlationId, metadata }) => ({
      sagaName,
      correlationId,
      state: { ...applicationFields(state, options), metadata },
    })),
  );
};

/**
 * Converts and encodes a 0.2.2 item, and checks that today's item fits DynamoDB's size limit.
 * `Left` is the reason it cannot be migrated.
 */
export const prepareMigration = (
  table: TableNames,
  item: RawItem,
  options: LegacyReadOptions & Pick<WriteOptions, "ttlSeconds"> = {},
): Read<PreparedMigration> =>
  pipe(
    convertLegacyItem(item, options),
    E.chain((saga) => {
      const init = { sagaName: saga.sagaName, sagaId: saga.state.metadata.sagaId };
      try {
        return E.right({ saga, encoded: encodeState(saga.state, init, undefined) });
      } catch (error) {
        if (error instanceof SagaStoreError) return E.left(error.message);
        throw error;
      }
    }),
    E.chainFirst(({ saga, encoded }) => {
      const put = convertInput(table, saga, encoded, "put", options).TransactItems?.[0]?.Put;
      const size = itemSize(put?.Item ?? {});
      return size > MAX_ITEM_BYTES
        ? E.left(`today's item would be ${size} bytes, over DynamoDB's limit of ${MAX_ITEM_BYTES}`)
        : E.right(undefined);
    }),
  );

/** What a migration found of one saga in today's layout. */
export interface Existing {
  /** Version of today's saga item with the 0.2.2 saga's id; `undefined`: there is none. */
  readonly sagaVersion?: number | undefined;
  /** Saga id named by today's correlation item of its correlation id; `undefined`: none. */
  readonly correlationHolder?: string | undefined;
}

/** The next step of migrating one 0.2.2 saga. */
export type MigrationPlan =
  /**
   * Write today's saga item, and the correlation item (`"put"`) or, when one naming this
   * saga is already there, just check it (`"confirm"`); delete the 0.2.2 item.
   */
  | { readonly kind: "convert"; readonly correlation: "put" | "confirm" }
  /** Today's saga item exists at this version or later: only delete the 0.2.2 item. */
  | { readonly kind: "finish" }
  /** Leave both layouts as they are. */
  | { readonly kind: "skip"; readonly reason: string };

/**
 * Decides what to do with a 0.2.2 saga from what exists of it in today's layout. Today's
 * items are never overwritten: an existing saga item that is not older than the 0.2.2 one
 * means the saga was migrated already (or moved on since); a correlation id reserved by
 * another saga means two sagas claim it, which needs a person.
 */
export const planMigration = (
  sagaId: string,
  legacyVersion: number,
  existing: Existing,
): MigrationPlan => {
  const { sagaVersion, correlationHolder } = existing;
  if (sagaVersion !== undefined) {
    return sagaVersion >= legacyVersion
      ? { kind: "finish" }
      : {
          kind: "skip",
          reason: `today's saga item exists at version ${sagaVersion}, behind the 0.2.2 item's version ${legacyVersion}`,
        };
  }
  if (correlationHolder === undefined) return { kind: "convert", correlation: "put" };
  if (correlationHolder === sagaId) return { kind: "convert", correlation: "confirm" };
  return {
    kind: "skip",
    reason: `the correlation id is reserved by another saga (id "${correlationHolder}")`,
  };
};

/** Index of each action of `convertInput`'s transaction, for reading cancellation reasons. */
export const CONVERT_ACTIONS = { saga: 0, correlation: 1, legacy: 2 } as const;

/** Index of each action of `finishInput`'s transaction. */
export const FINISH_ACTIONS = { saga: 0, legacy: 1 } as const;

/** Deletes the 0.2.2 item only while it has the version that was migrated. */
const deleteLegacy = (table: TableNames, saga: LegacySaga) => ({
  Delete: {
    TableName: table.tableName,
    Key: legacyKey(saga.sagaName, saga.state.metadata.sagaId),
    ConditionExpression: "#version = :legacyVersion",
    ExpressionAttributeNames: { "#version": "version" },
    ExpressionAttributeValues: { ":legacyVersion": saga.state.metadata.version },
    ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
  },
});

/**
 * One saga's migration as one transaction: today's saga item exactly as `insert` writes it
 * (a completed one filed under its `updatedAt`, as 0.2.2's cleanup index had it) and its
 * correlation item, each only if absent (or, with `"confirm"`, a check that the correlation
 * item names this saga), and the delete of the 0.2.2 item while it still has the version
 * read. A failed condition returns the item that failed it, so the next step needs no read.
 */
export const convertInput = (
  table: TableNames,
  saga: LegacySaga,
  encoded: EncodedState,
  correlation: "put" | "confirm",
  options: Pick<WriteOptions, "ttlSeconds"> = {},
): TransactWriteCommandInput => {
  const { sagaName, correlationId } = saga;
  const insert = insertInput(table, sagaName, correlationId, encoded, {
    ttlSeconds: options.ttlSeconds,
  });
  const sagaPut = insert.TransactItems?.[INSERT_ACTIONS.saga]?.Put;
  const correlationPut = insert.TransactItems?.[INSERT_ACTIONS.correlation];
  return {
    TransactItems: [
      { Put: { ...sagaPut!, ReturnValuesOnConditionCheckFailure: "ALL_OLD" } },
      correlation === "put"
        ? correlationPut!
        : {
            ConditionCheck: {
              TableName: table.tableName,
              Key: correlationKey(sagaName, correlationId),
              ConditionExpression: "sagaId = :sagaId",
              ExpressionAttributeValues: { ":sagaId": saga.state.metadata.sagaId },
              ReturnValuesOnConditionCheckFailure: "ALL_OLD",
            },
          },
      deleteLegacy(table, saga),
    ],
  };
};

/**
 * The migration of a saga already in today's layout: delete the 0.2.2 item (while it has
 * the version read) only if today's saga item still exists at that version or later.
 */
export const finishInput = (table: TableNames, saga: LegacySaga): TransactWriteCommandInput => ({
  TransactItems: [
    {
      ConditionCheck: {
        TableName: table.tableName,
        Key: sagaKey(saga.sagaName, saga.state.metadata.sagaId),
        ConditionExpression: "#version >= :legacyVersion",
        ExpressionAttributeNames: { "#version": "version" },
        ExpressionAttributeValues: { ":legacyVersion": saga.state.metadata.version },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      },
    },
    deleteLegacy(table, saga),
  ],
});

/** Whether the condition of one action of a cancelled transaction failed. */
const failed = (reason: CancellationReason | undefined): boolean =>
  reason?.Code === "ConditionalCheckFailed";

/** What became of the 0.2.2 item, from the reason of its delete. */
export type LegacyFate = "unchanged" | "changed" | "gone";

/** What a cancelled migration transaction tells about the saga's items. */
export interface Cancellation {
  readonly existing: Existing;
  readonly legacy: LegacyFate;
}

const versionOf = (item: Record<string, unknown> | undefined): number | undefined => {
  const value = attribute(item, "version");
  return typeof value === "number" ? value : undefined;
};

const legacyFate = (reason: CancellationReason | undefined): LegacyFate =>
  !failed(reason) ? "unchanged" : reason?.Item === undefined ? "gone" : "changed";

/**
 * Reads the reasons of a cancelled `convertInput` or `finishInput` transaction (`plan`,
 * made from `before`) into what exists of the saga in today's layout and what became of its
 * 0.2.2 item. An action whose condition held says its item was as the plan expected.
 */
export const readCancellation = (
  plan: Exclude<MigrationPlan, { kind: "skip" }>,
  sagaId: string,
  reasons: readonly CancellationReason[],
  before: Existing,
): Cancellation => {
  if (plan.kind === "finish") {
    const saga = reasons[FINISH_ACTIONS.saga];
    return {
      // Failed: today's item is behind (its version is returned) or gone (nothing is).
      // Held: it is still at the version that led to this plan, or later.
      existing: failed(saga) ? { sagaVersion: versionOf(saga?.Item) } : before,
      legacy: legacyFate(reasons[FINISH_ACTIONS.legacy]),
    };
  }
  const saga = reasons[CONVERT_ACTIONS.saga];
  const correlation = reasons[CONVERT_ACTIONS.correlation];
  const holder = failed(correlation) ? attribute(correlation?.Item, "sagaId") : undefined;
  return {
    existing: {
      sagaVersion: failed(saga) ? versionOf(saga?.Item) : undefined,
      correlationHolder:
        plan.correlation === "confirm" && !failed(correlation)
          ? sagaId
          : typeof holder === "string"
            ? holder
            : undefined,
    },
    legacy: legacyFate(reasons[CONVERT_ACTIONS.legacy]),
  };
};

/**
 * One page of one segment of the scan for 0.2.2 items: strongly consistent, and only items
 * whose `state` is a map (today's store writes it as a string).
 */
export const legacyScanInput = (
  table: TableNames,
  segment: { readonly index: number; readonly total: number },
  startKey: Record<string, unknown> | undefined,
): ScanCommandInput => ({
  TableName: table.tableName,
  ConsistentRead: true,
  FilterExpression: "attribute_type(#state, :map)",
  ExpressionAttributeNames: { "#state": "state" },
  ExpressionAttributeValues: { ":map": "M" },
  Segment: segment.index,
  TotalSegments: segment.total,
  ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
});

/** Strongly consistent read of a 0.2.2 item. */
export const getLegacyInput = (
  table: TableNames,
  sagaName: string,
  sagaId: string,
): GetCommandInput => ({
  TableName: table.tableName,
  Key: legacyKey(sagaName, sagaId),
  ConsistentRead: true,
});

/** Strongly consistent read of the version of today's saga item (dry runs). */
export const getSagaVersionInput = (
  table: TableNames,
  sagaName: string,
  sagaId: string,
): GetCommandInput => ({
  TableName: table.tableName,
  Key: sagaKey(sagaName, sagaId),
  ConsistentRead: true,
  ProjectionExpression: "#version",
  ExpressionAttributeNames: { "#version": "version" },
});

/** Strongly consistent read of the saga id holding a correlation id (dry runs). */
export const getCorrelationHolderInput = getCorrelationInput;
