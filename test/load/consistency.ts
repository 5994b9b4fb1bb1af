/**
 * The consistency check of the load test: a strongly consistent scan of the whole table, and
 * an audit of what it holds, independent of the store's read path.
 *
 * - Every saga item (`SK = ID#<sagaId>`) has its correlation item (`SK = CORR#<its
 *   correlationId>`), and that item names this saga.
 * - Every correlation item names a saga item that exists and whose `correlationId` is the
 *   one the correlation item reserves.
 * - Exactly one saga per correlation id, and one per expected correlation id, no other.
 * - Each saga's state has exactly the messages it received applied, each once, is completed,
 *   and its version is the number of successful updates the message loop made for it.
 *
 * @packageDocumentation
 */
import { ScanCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { decodeSagaItem, DEFAULT_LAYOUT } from "../../src/internals";
import { LAYOUT_MARKER_KEY, type TableLayout } from "../../src/layout";
import type { OrderState } from "../../workload/order-saga";

type Item = Record<string, unknown>;

/** Every item of the table, read with a strongly consistent, paginated scan. */
export const scanTable = async (
  docClient: DynamoDBDocumentClient,
  tableName: string,
): Promise<{ items: Item[]; pages: number }> => {
  const items: Item[] = [];
  let pages = 0;
  let startKey: Item | undefined;
  do {
    const page = await docClient.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
    );
    pages++;
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return { items, pages };
};

/** What one correlation id should have ended with. */
export interface Expectation {
  /** Ids of the messages delivered for it, each once. */
  readonly messageIds: ReadonlySet<string>;
  /** Successful `update`s of its saga: the version it must end at. */
  readonly updates: number | undefined;
}

/** Outcome of {@link auditTable}. */
export interface Audit {
  readonly sagaItems: number;
  readonly correlationItems: number;
  /** One line per thing wrong (empty when all is well). */
  readonly problems: readonly string[];
}

/** The same strings, each as often (order aside). */
const same = (a: readonly string[], b: readonly string[]): boolean => {
  const sortedB = [...b].sort();
  return a.length === b.length && [...a].sort().every((value, i) => value === sortedB[i]);
};

/** Checks the scanned items of `sagaName` against what each correlation id should hold. */
export const auditTable = (
  items: readonly Item[],
  sagaName: string,
  expected: ReadonlyMap<string, Expectation>,
  layout: TableLayout = DEFAULT_LAYOUT,
): Audit => {
  const problems: string[] = [];
  const partitions = new Set(layout.sagaPartitions(sagaName));
  const sagas = new Map<string, Item>(); // by saga id
  const guards = new Map<string, Item>(); // by correlation id
  for (const item of items) {
    const { PK, SK } = item;
    if (PK === LAYOUT_MARKER_KEY.PK && SK === LAYOUT_MARKER_KEY.SK) continue;
    if (!partitions.has(String(PK)) || typeof SK !== "string") {
      problems.push(`an item outside the partitions of ${sagaName}: ${JSON.stringify({ PK, SK })}`);
    } else if (SK.startsWith(layout.sagaSortPrefix)) {
      const sagaId = layout.sagaIdFromSortKey(SK);
      if (PK !== layout.sagaKey(sagaName, sagaId).PK)
        problems.push(`saga ${sagaId} in ${String(PK)}`);
      sagas.set(sagaId, item);
    } else if (SK.startsWith(layout.correlationSortPrefix)) {
      const correlationId = SK.slice(layout.correlationSortPrefix.length);
      if (PK !== layout.correlationKey(sagaName, correlationId).PK) {
        problems.push(`correlation item ${correlationId} in ${String(PK)}`);
      }
      guards.set(correlationId, item);
    } else {
      problems.push(`an item of unknown kind: ${SK}`);
    }
  }

  // Saga → its correlation item, and what its state holds.
  const sagasByCorrelation = new Map<string, string[]>();
  for (const [sagaId, item] of sagas) {
    const correlationId = item.correlationId;
    const what = `saga ${sagaId}`;
    if (item.sagaId !== sagaId)
      problems.push(`${what}: sagaId attribute is ${String(item.sagaId)}`);
    if (typeof correlationId !== "string") {
      problems.push(`${what}: no correlationId attribute`);
      continue;
    }
    sagasByCorrelation.set(correlationId, [
      ...(sagasByCorrelation.get(correlationId) ?? []),
      sagaId,
    ]);
    const indexKey = layout.correlationIndexKey(sagaName, correlationId);
    if (item.GSI1SK !== indexKey.GSI1SK || item.GSI1PK !== indexKey.GSI1PK) {
      problems.push(
        `${what}: GSI1 keys ${String(item.GSI1PK)} / ${String(item.GSI1SK)} are not those of ${correlationId}`,
      );
    }
    const guard = guards.get(correlationId);
    if (guard === undefined) problems.push(`${what}: no correlation item for ${correlationId}`);
    else if (guard.sagaId !== sagaId) {
      problems.push(`${what}: correlation item of ${correlationId} names ${String(guard.sagaId)}`);
    }
    problems.push(...auditState(item, sagaName, sagaId, correlationId, expected));
  }

  // Correlation item → the saga it names.
  for (const [correlationId, guard] of guards) {
    const what = `correlation item ${correlationId}`;
    const sagaId = guard.sagaId;
    if (typeof sagaId !== "string") {
      problems.push(`${what}: no sagaId attribute`);
      continue;
    }
    const saga = sagas.get(sagaId);
    if (saga === undefined) problems.push(`${what}: names saga ${sagaId}, which does not exist`);
    else if (saga.correlationId !== correlationId) {
      problems.push(
        `${what}: names saga ${sagaId}, whose correlationId is ${String(saga.correlationId)}`,
      );
    }
  }

  // One saga per correlation id, for exactly the expected correlation ids.
  for (const [correlationId, ids] of sagasByCorrelation) {
    if (ids.length !== 1)
      problems.push(`${correlationId}: ${ids.length} sagas (${ids.join(", ")})`);
    if (!expected.has(correlationId)) problems.push(`${correlationId}: a saga nobody started`);
  }
  for (const correlationId of expected.keys()) {
    if (!sagasByCorrelation.has(correlationId)) problems.push(`${correlationId}: no saga`);
  }
  return { sagaItems: sagas.size, correlationItems: guards.size, problems };
};

/** What is wrong with the state of one saga item. */
const auditState = (
  item: Item,
  sagaName: string,
  sagaId: string,
  correlationId: string,
  expected: ReadonlyMap<string, Expectation>,
): string[] => {
  const what = `saga ${sagaId} (${correlationId})`;
  const expectation = expected.get(correlationId);
  if (expectation === undefined) return [];
  let state: OrderState;
  try {
    state = decodeSagaItem<OrderState>(item, { sagaName, sagaId }, undefined).state;
  } catch (error) {
    return [`${what}: does not decode: ${String(error)}`];
  }
  const problems: string[] = [];
  const wanted = [...expectation.messageIds];
  if (!same(state.applied, wanted)) {
    problems.push(
      `${what}: applied ${JSON.stringify(state.applied)}, expected ${wanted.join(", ")} once each`,
    );
  }
  const history = state.history.map((entry) => entry.messageId);
  if (!same(history, wanted)) {
    problems.push(
      `${what}: history ${JSON.stringify(history)}, expected ${wanted.join(", ")} once each`,
    );
  }
  if (state.orderId !== correlationId) problems.push(`${what}: orderId is ${state.orderId}`);
  if (!state.metadata.isCompleted || state.status !== "completed") {
    problems.push(`${what}: not completed (status ${state.status})`);
  }
  if (state.metadata.isCompleted && typeof item.GSI2PK !== "string") {
    problems.push(`${what}: completed but not in the cleanup index`);
  }
  if (state.metadata.version !== expectation.updates) {
    problems.push(
      `${what}: version ${state.metadata.version}, expected ${String(expectation.updates)} (one per successful update)`,
    );
  }
  return problems;
};
