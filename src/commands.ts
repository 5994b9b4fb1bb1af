/**
 * Pure builders of DynamoDB command inputs: values in, plain input objects out. No client,
 * no I/O; the store wraps each input in its lib-dynamodb command and sends it.
 */
import type {
  BatchExecuteStatementCommandInput,
  GetCommandInput,
  QueryCommandInput,
  ScanCommandInput,
  TransactWriteCommandInput,
  UpdateCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { DEFAULT_LAYOUT, LAYOUT_MARKER_KEY, type TableLayout } from "./layout.js";
import { OPTIONAL_METADATA, type EncodedState } from "./marshal.js";

/** Where the store's items live: the table, its index names, and the item layout. */
export interface TableNames {
  readonly tableName: string;
  /** The correlation index (GSI1): sagas by correlation id. */
  readonly correlationIndexName: string;
  /** The cleanup index (GSI2): completed sagas by completion day. */
  readonly cleanupIndexName: string;
  /** The item layout. Default: `DEFAULT_LAYOUT`, the seed README's. */
  readonly layout?: TableLayout;
}

/** The layout of `table`. */
export const layoutOf = (table: TableNames): TableLayout => table.layout ?? DEFAULT_LAYOUT;

/** Default index names, as in the seed README. */
export const DEFAULT_INDEX_NAMES = {
  correlationIndexName: "GSI1",
  cleanupIndexName: "GSI2",
} as const;

/** What DynamoDB accepts as a table or index name: 3-255 of A-Z a-z 0-9 _ . - */
export const DYNAMODB_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

type AttributeValues = Record<string, unknown>;

/** Strongly or eventually consistent read of one saga item. */
export const getSagaInput = (
  table: TableNames,
  sagaName: string,
  sagaId: string,
  consistentRead: boolean,
): GetCommandInput => ({
  TableName: table.tableName,
  Key: layoutOf(table).sagaKey(sagaName, sagaId),
  ConsistentRead: consistentRead,
});

/**
 * Read of the item reserving a correlation id (only its saga id): strongly consistent by
 * default; eventually consistent for the `"eventual"` lookup, which confirms a miss strongly.
 */
export const getCorrelationInput = (
  table: TableNames,
  sagaName: string,
  correlationId: string,
  consistentRead = true,
): GetCommandInput => ({
  TableName: table.tableName,
  Key: layoutOf(table).correlationKey(sagaName, correlationId),
  ConsistentRead: consistentRead,
  ProjectionExpression: "sagaId",
});

/** Options of the write builders. */
export interface WriteOptions {
  /** Seconds after completion when TTL may delete the saga (sets `expiresAt`). */
  readonly ttlSeconds?: number | undefined;
  /** Insert only: the saga id of an orphaned correlation item to take over. */
  readonly orphanedBy?: string | undefined;
  /**
   * Update only: a value unique to this call, written to `writeId`. When the SDK retries an
   * update whose answer was lost, the retry's condition fails on the first attempt's write;
   * the stored `writeId` tells that apart from another writer's.
   */
  readonly writeId?: string | undefined;
}

/** Epoch seconds at which DynamoDB's TTL may delete a saga completed at `completedAt`. */
export const expiresAt = (completedAt: Date, ttlSeconds: number): number =>
  Math.floor(completedAt.getTime() / 1000) + ttlSeconds;

/**
 * Completion attributes. The completion time is the state's `metadata.updatedAt` at the
 * completing write (saga-bus sets it on that write, and 0.2.2 compared it too), so the
 * builders stay functions of their input and every instance files a saga under the same day.
 */
const completionAttributes = (
  layout: TableLayout,
  sagaName: string,
  encoded: EncodedState,
  ttlSeconds: number | undefined,
): Record<string, string | number> => {
  const completedAt = new Date(encoded.metadata.updatedAt as string);
  const attributes: Record<string, string | number> = {
    [layout.completedAtAttribute]: completedAt.toISOString(),
    ...layout.cleanupIndexKey(sagaName, encoded.metadata.sagaId as string, completedAt),
  };
  if (ttlSeconds !== undefined)
    attributes[layout.ttlAttribute] = expiresAt(completedAt, ttlSeconds);
  return attributes;
};

/**
 * Insert = one transaction: the saga item, and the item reserving its correlation id, each
 * only if absent. Either both are written or neither; the loser of a race learns the
 * winner's saga id from the cancellation reason, in the same round trip.
 *
 * With `orphanedBy`, the correlation item may replace one that names `orphanedBy`, a saga
 * that no longer exists (removed by TTL, or by a cleanup that stopped halfway).
 */
export const insertInput = (
  table: TableNames,
  sagaName: string,
  correlationId: string,
  encoded: EncodedState,
  options: WriteOptions = {},
): TransactWriteCommandInput => {
  const { orphanedBy } = options;
  const layout = layoutOf(table);
  const sagaId = encoded.metadata.sagaId as string;
  // Named properties first: this literal stays on V8's fast path.
  const key = layout.sagaKey(sagaName, sagaId);
  const item: AttributeValues = {
    PK: key.PK,
    SK: key.SK,
    sagaName,
    correlationId,
    state: encoded.state,
  };
  Object.assign(item, layout.correlationIndexKey(sagaName, correlationId), encoded.metadata);
  if (encoded.stateDates !== undefined) item.stateDates = encoded.stateDates;
  if (encoded.isCompleted) {
    Object.assign(item, completionAttributes(layout, sagaName, encoded, options.ttlSeconds));
  }
  return {
    TransactItems: [
      {
        Put: {
          TableName: table.tableName,
          Item: item,
          ConditionExpression: "attribute_not_exists(PK)",
        },
      },
      {
        Put: {
          TableName: table.tableName,
          Item: { ...layout.correlationKey(sagaName, correlationId), sagaId },
          ...(orphanedBy === undefined
            ? { ConditionExpression: "attribute_not_exists(PK)" }
            : {
                ConditionExpression: "sagaId = :orphanedBy",
                ExpressionAttributeValues: { ":orphanedBy": orphanedBy },
              }),
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        },
      },
      // Taking over a correlation item is allowed only while its saga is really gone.
      ...(orphanedBy === undefined
        ? []
        : [
            {
              ConditionCheck: {
                TableName: table.tableName,
                Key: layout.sagaKey(sagaName, orphanedBy),
                ConditionExpression: "attribute_not_exists(PK)",
              },
            },
          ]),
    ],
  };
};

/** Index of each action in `insertInput`'s transaction, for reading cancellation reasons. */
export const INSERT_ACTIONS = { saga: 0, correlation: 1, orphan: 2 } as const;

/**
 * The write-id attributes an update leaves, each sized like the id it will hold: the first is
 * the update's own; `updateInput` shifts the earlier ones down. An insert counts them too, so
 * that every state it accepts can be updated unchanged.
 */
export const writeIdSlots = (layout: TableLayout, writeId: string): Record<string, string> =>
  Object.fromEntries(layout.writeIdAttributes.map((slot) => [slot, writeId]));

/**
 * The attributes an update sets (`undefined`: removed), keys and correlation attributes
 * aside: what `updateInput` writes, and what bounds the size of the item it leaves.
 */
export const updatedAttributes = (
  table: TableNames,
  sagaName: string,
  encoded: EncodedState,
  options: WriteOptions = {},
): Record<string, unknown> => {
  const layout = layoutOf(table);
  const attributes: Record<string, unknown> = {};
  for (const [attribute, value] of Object.entries(encoded.metadata)) {
    if (attribute !== "sagaId") attributes[attribute] = value;
  }
  for (const attribute of OPTIONAL_METADATA) {
    if (!(attribute in encoded.metadata)) attributes[attribute] = undefined;
  }
  attributes.state = encoded.state;
  attributes.stateDates = encoded.stateDates;
  if (options.writeId !== undefined)
    Object.assign(attributes, writeIdSlots(layout, options.writeId));
  if (encoded.isCompleted) {
    Object.assign(attributes, completionAttributes(layout, sagaName, encoded, options.ttlSeconds));
    return attributes;
  }
  // Not completed: out of the cleanup index, and no expiry, so TTL never deletes a reopened
  // saga. (Completed without a TTL, an expiry is left as it is.)
  attributes[layout.completedAtAttribute] = undefined;
  attributes[layout.indexes.cleanup.partitionKey] = undefined;
  attributes[layout.indexes.cleanup.sortKey] = undefined;
  attributes[layout.ttlAttribute] = undefined;
  return attributes;
};

/** Completion attributes whose first value a later completing update keeps. */
const keepFirst = (layout: TableLayout): ReadonlySet<string> =>
  new Set([layout.completedAtAttribute, layout.indexes.cleanup.partitionKey, layout.ttlAttribute]);

/**
 * Update = one conditional `UpdateItem` that sets every metadata and state attribute and
 * removes the absent optional ones. It leaves the correlation attributes alone, so it does
 * not need the correlation id. On a failed condition DynamoDB returns the stored item,
 * which tells a version conflict (and the actual version) from a missing saga, and a
 * retried request's own earlier write (its `writeId`) from both.
 */
export const updateInput = (
  table: TableNames,
  sagaName: string,
  encoded: EncodedState,
  expectedVersion: number,
  options: WriteOptions = {},
): UpdateCommandInput => {
  const names: Record<string, string> = {};
  const values: AttributeValues = { ":expectedVersion": expectedVersion };
  const sets: string[] = [];
  const removes: string[] = [];
  const layout = layoutOf(table);
  const sticky = keepFirst(layout);
  const attributes = updatedAttributes(table, sagaName, encoded, options);
  for (const [attribute, value] of Object.entries(attributes)) {
    names[`#${attribute}`] = attribute;
    const slot = layout.writeIdAttributes.indexOf(attribute);
    if (slot > 0) {
      // The id one slot newer holds now (SET operands read the item before the update).
      const newer = layout.writeIdAttributes[slot - 1]!;
      values[":noWriteId"] = "";
      names[`#${newer}`] = newer;
      sets.push(`#${attribute} = if_not_exists(#${newer}, :noWriteId)`);
      continue;
    }
    if (value === undefined) {
      removes.push(`#${attribute}`);
      continue;
    }
    values[`:${attribute}`] = value;
    sets.push(
      sticky.has(attribute) && encoded.isCompleted
        ? `#${attribute} = if_not_exists(#${attribute}, :${attribute})`
        : `#${attribute} = :${attribute}`,
    );
  }
  return {
    TableName: table.tableName,
    Key: layout.sagaKey(sagaName, encoded.metadata.sagaId as string),
    UpdateExpression:
      `SET ${sets.join(", ")}` + (removes.length === 0 ? "" : ` REMOVE ${removes.join(", ")}`),
    ConditionExpression: "#version = :expectedVersion",
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
  };
};

/**
 * Delete = one transaction removing the saga and the item reserving its correlation id.
 * The conditions make a concurrent delete harmless and never touch another saga's item.
 */
export const deleteInput = (
  table: TableNames,
  sagaName: string,
  sagaId: string,
  correlationId: string,
): TransactWriteCommandInput => ({
  TransactItems: [
    {
      Delete: {
        TableName: table.tableName,
        Key: layoutOf(table).sagaKey(sagaName, sagaId),
        ConditionExpression: "correlationId = :correlationId",
        ExpressionAttributeValues: { ":correlationId": correlationId },
      },
    },
    {
      Delete: {
        TableName: table.tableName,
        Key: layoutOf(table).correlationKey(sagaName, correlationId),
        ConditionExpression: "attribute_not_exists(PK) OR sagaId = :sagaId",
        ExpressionAttributeValues: { ":sagaId": sagaId },
      },
    },
  ],
});

/**
 * Strongly consistent read of a saga item's correlation id only: what `delete` needs to find
 * the correlation item, and what `insert` needs to know whether a saga still exists.
 */
export const getCorrelationIdOfSagaInput = (
  table: TableNames,
  sagaName: string,
  sagaId: string,
): GetCommandInput => ({
  TableName: table.tableName,
  Key: layoutOf(table).sagaKey(sagaName, sagaId),
  ConsistentRead: true,
  ProjectionExpression: "correlationId",
});

/**
 * The write ids a saga item holds (and its version), read strongly: whether an update that
 * failed without an answer (the SDK gave up retrying a lost response) was applied after all.
 */
export const getWriteIdsInput = (
  table: TableNames,
  sagaName: string,
  sagaId: string,
): GetCommandInput => {
  const layout = layoutOf(table);
  const names = ["version", ...layout.writeIdAttributes];
  return {
    TableName: table.tableName,
    Key: layout.sagaKey(sagaName, sagaId),
    ConsistentRead: true,
    ProjectionExpression: names.map((name) => `#${name}`).join(", "),
    ExpressionAttributeNames: Object.fromEntries(names.map((name) => [`#${name}`, name])),
  };
};

/**
 * The first item under the partition `<sagaName>`: where 0.2.x kept the sagas of a name
 * (`PK = <sagaName>`, `SK = <sagaId>`, a `sagaName` attribute equal to `PK`). Today's
 * partitions all start with `SAGA#`, and names may not contain `#`, so nothing of this version
 * is ever there. After `startKey` (an item that was not a 0.2.x saga), the rest of the
 * partition, filtered to 0.2.x sagas of the name. (A Query is billed by what it reads,
 * whatever it projects or filters.)
 */
export const legacyPartitionProbeInput = (
  table: TableNames,
  sagaName: string,
  startKey?: Record<string, unknown>,
): QueryCommandInput => ({
  TableName: table.tableName,
  KeyConditionExpression: "PK = :pk",
  ExpressionAttributeValues: { ":pk": sagaName },
  ProjectionExpression: "sagaName",
  ConsistentRead: true,
  ...(startKey === undefined
    ? { Limit: 1 }
    : { ExclusiveStartKey: startKey, FilterExpression: "sagaName = :pk" }),
});

/** Strongly consistent read of the item recording a sharded table's layout. */
export const getLayoutMarkerInput = (table: TableNames): GetCommandInput => ({
  TableName: table.tableName,
  Key: { ...LAYOUT_MARKER_KEY },
  ConsistentRead: true,
});

/** Options of `findByName`. */
export interface FindByNameQuery {
  readonly limit?: number;
  /** Decoded cursor: the sort key of the last item of the previous page. */
  readonly startSortKey?: string;
  readonly completed?: boolean;
}

/**
 * One page of the sagas of one name in one of its partitions (the default layout has one),
 * in saga id order.
 */
export const findByNameInput = (
  table: TableNames,
  sagaName: string,
  query: FindByNameQuery,
  consistentRead: boolean,
  partition = 0,
): QueryCommandInput => {
  const layout = layoutOf(table);
  const pk = layout.sagaPartitions(sagaName)[partition]!;
  return {
    TableName: table.tableName,
    KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
    ExpressionAttributeValues: {
      ":pk": pk,
      ":prefix": layout.sagaSortPrefix,
      ...(query.completed === undefined ? {} : { ":completed": query.completed }),
    },
    ...(query.completed === undefined ? {} : { FilterExpression: "isCompleted = :completed" }),
    ...(query.limit === undefined ? {} : { Limit: query.limit }),
    ...(query.startSortKey === undefined
      ? {}
      : { ExclusiveStartKey: { PK: pk, SK: query.startSortKey } }),
    ConsistentRead: consistentRead,
  };
};

/** Just above the last instant a 4-digit year can write ("24:00" ends a day in ISO 8601). */
const END_OF_YEAR_9999 = "9999-12-31T24:00:00.000Z";

/**
 * The cutoff as a string to compare with stored `completedAt` values, which DynamoDB compares
 * byte by byte. Years after 9999 serialise as `+010000-…`, and `+` sorts before every digit,
 * so such a cutoff would match nothing: it becomes a string above every 4-digit-year one.
 * Years before 0 (`-000001-…`) already sort below them all, as they should.
 */
export const cutoffString = (before: Date): string =>
  before.getUTCFullYear() > 9999 ? END_OF_YEAR_9999 : before.toISOString();

/**
 * One segment page of the scan of the cleanup index for completed sagas of one name that
 * completed before `before`. The index is sparse (only completed sagas are in it), so the
 * scan reads completed sagas only.
 */
export const cleanupScanInput = (
  table: TableNames,
  sagaName: string,
  before: Date,
  segment: { readonly index: number; readonly total: number },
  startKey: Record<string, unknown> | undefined,
): ScanCommandInput => {
  const layout = layoutOf(table);
  return {
    TableName: table.tableName,
    IndexName: table.cleanupIndexName,
    FilterExpression: `begins_with(${layout.indexes.cleanup.sortKey}, :prefix) AND ${layout.completedAtAttribute} < :before`,
    ExpressionAttributeValues: {
      ":prefix": layout.cleanupSortPrefix(sagaName),
      ":before": cutoffString(before),
    },
    ProjectionExpression: "sagaId, correlationId",
    Segment: segment.index,
    TotalSegments: segment.total,
    ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
  };
};

/** A completed saga chosen for deletion. */
export interface CleanupVictim {
  readonly sagaId: string;
  readonly correlationId: string;
}

/** DynamoDB's limit of statements in one `BatchExecuteStatement`. */
export const MAX_BATCH_STATEMENTS = 25;

/**
 * Deletes up to 25 sagas, each only if it is still completed before the cutoff: a saga
 * reopened since the scan stays. PartiQL statements, unlike `BatchWriteItem` requests, carry
 * a condition each, and unlike a transaction cost no more than plain deletes.
 *
 * A DELETE of an item that is already gone succeeds, whatever its condition (a concurrent
 * cleanup or TTL got there first), so success does not mean deleted: `RETURNING ALL OLD *`
 * returns the item only from the statement that really deleted it.
 */
export const deleteCompletedSagasInput = (
  table: TableNames,
  sagaName: string,
  victims: readonly CleanupVictim[],
  before: Date,
): BatchExecuteStatementCommandInput => ({
  Statements: victims.map((victim) => {
    const key = layoutOf(table).sagaKey(sagaName, victim.sagaId);
    return {
      Statement: `DELETE FROM "${table.tableName}" WHERE PK = ? AND SK = ? AND isCompleted = ? AND ${layoutOf(table).completedAtAttribute} < ? RETURNING ALL OLD *`,
      Parameters: [key.PK, key.SK, true, cutoffString(before)],
    };
  }),
});

/**
 * Deletes the correlation items of deleted sagas, each only while it still names its saga
 * (a new saga may have taken the correlation id over in the meantime).
 */
export const deleteCorrelationsInput = (
  table: TableNames,
  sagaName: string,
  victims: readonly CleanupVictim[],
): BatchExecuteStatementCommandInput => ({
  Statements: victims.map((victim) => {
    const key = layoutOf(table).correlationKey(sagaName, victim.correlationId);
    return {
      Statement: `DELETE FROM "${table.tableName}" WHERE PK = ? AND SK = ? AND sagaId = ?`,
      Parameters: [key.PK, key.SK, victim.sagaId],
    };
  }),
});
