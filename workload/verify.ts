/**
 * After the workload: every order must have exactly one saga, completed, with exactly its
 * four messages applied once each, the version its successful updates add up to, and its
 * Dates back as Dates with the messages' times. Then the cleanup pass, which must leave no
 * item of the saga name behind.
 *
 * @packageDocumentation
 */
import { QueryCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBSagaStoreFunctions } from "../src/index.js";
import { DEFAULT_LAYOUT } from "../src/internals.js";
import type { LoopStats } from "./message-loop.js";
import { MESSAGE_TYPES, occurredAt, SAGA_NAME, type OrderState } from "./order-saga.js";
import type { OrderPlan, Workload } from "./deliveries.js";

/** Outcome of {@link verifySagas}. */
export interface Verification {
  /** Sagas of the name found in the table. */
  readonly sagasFound: number;
  /** Orders whose saga is exactly as expected. */
  readonly correct: number;
  /** One line per thing wrong (empty when all is well). */
  readonly problems: readonly string[];
  readonly ms: number;
}

const sameInstant = (value: unknown, expected: Date): boolean =>
  value instanceof Date && value.getTime() === expected.getTime();

/** What is wrong with one order's saga, given the messages planned for it. */
const checkSaga = (
  state: OrderState,
  plan: OrderPlan,
  expectedVersion: number | undefined,
): string[] => {
  const problems: string[] = [];
  const { orderId } = plan;
  const wrong = (what: string) => problems.push(`${orderId}: ${what}`);
  if (!state.metadata.isCompleted) wrong(`not completed (status ${state.status})`);
  if (state.status !== "completed") wrong(`status is ${state.status}`);
  const expectedIds = MESSAGE_TYPES.map((type) => plan.messages[type].messageId).sort();
  const applied = [...state.applied].sort();
  if (JSON.stringify(applied) !== JSON.stringify(expectedIds)) {
    wrong(
      `applied ${JSON.stringify(state.applied)}, expected each of ${expectedIds.join(", ")} once`,
    );
  }
  if (expectedVersion === undefined) wrong("no successful update was counted for it");
  else if (state.metadata.version !== expectedVersion) {
    wrong(`version ${state.metadata.version}, expected ${expectedVersion} (one per update)`);
  }
  for (const field of ["createdAt", "updatedAt"] as const) {
    if (!(state.metadata[field] instanceof Date)) wrong(`metadata.${field} is not a Date`);
  }
  const { messages } = plan;
  const dates: Array<[string, unknown, Date]> = [
    ["placedAt", state.placedAt, messages.OrderPlaced.placedAt],
    ["payment.paidAt", state.payment?.paidAt, occurredAt(messages.PaymentCaptured)],
    ["reservation.reservedAt", state.reservation?.reservedAt, occurredAt(messages.ItemsReserved)],
    ["shipment.shippedAt", state.shipment?.shippedAt, occurredAt(messages.OrderShipped)],
    ...state.lines.map((line, i): [string, unknown, Date] => [
      `lines[${i}].reservedAt`,
      line.reservedAt,
      occurredAt(messages.ItemsReserved),
    ]),
    ...state.history.map((entry, i): [string, unknown, Date] => [
      `history[${i}].at`,
      entry.at,
      occurredAt(messages[entry.type]),
    ]),
  ];
  for (const [path, value, expected] of dates) {
    if (!sameInstant(value, expected)) {
      wrong(`${path} is ${String(value)}, expected the Date ${expected.toISOString()}`);
    }
  }
  const latest = Math.max(...MESSAGE_TYPES.map((type) => occurredAt(messages[type]).getTime()));
  if (!sameInstant(state.lastEventAt, new Date(latest))) wrong("lastEventAt is wrong");
  return problems;
};

/** Reads every saga of the demo's name (`findAllByName`) and checks it against the plan. */
export const verifySagas = async (
  store: Pick<DynamoDBSagaStoreFunctions<OrderState>, "findAllByName">,
  workload: Workload,
  stats: LoopStats,
): Promise<Verification> => {
  const started = Date.now();
  const byOrder = new Map<string, OrderState[]>();
  let sagasFound = 0;
  for await (const state of store.findAllByName(SAGA_NAME)) {
    sagasFound++;
    const list = byOrder.get(state.orderId) ?? [];
    list.push(state);
    byOrder.set(state.orderId, list);
  }
  const problems: string[] = [];
  let correct = 0;
  for (const dead of stats.deadLettered) {
    problems.push(`${dead.correlationId}: message ${dead.messageId} dead-lettered: ${dead.reason}`);
  }
  for (const plan of workload.plans.values()) {
    const sagas = byOrder.get(plan.orderId) ?? [];
    if (sagas.length !== 1) {
      problems.push(`${plan.orderId}: ${sagas.length} sagas, expected exactly 1`);
      continue;
    }
    const found = checkSaga(sagas[0]!, plan, stats.updates.get(plan.orderId));
    if (found.length === 0) correct++;
    problems.push(...found);
  }
  for (const orderId of byOrder.keys()) {
    if (!workload.plans.has(orderId)) problems.push(`${orderId}: a saga for an unknown order`);
  }
  return { sagasFound, correct, problems, ms: Date.now() - started };
};

/** Outcome of {@link cleanUp}. */
export interface Cleanup {
  /** Sagas `deleteCompletedBefore` reported deleted, over all passes. */
  readonly deleted: number;
  /** Passes run (more than one only if the cleanup index lagged behind). */
  readonly passes: number;
  /** Items (sagas and correlation items) of the name still in the table. */
  readonly itemsLeft: number;
  readonly ms: number;
}

/** Items of the saga name still in the table: sagas and correlation items alike. */
const countItems = async (docClient: DynamoDBDocumentClient, tableName: string) => {
  let count = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await docClient.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: "PK = :pk",
        ExpressionAttributeValues: { ":pk": DEFAULT_LAYOUT.sagaPartitions(SAGA_NAME)[0]! },
        Select: "COUNT",
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    count += page.Count ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return count;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Deletes every completed saga of the demo's name: `deleteCompletedBefore` with a cutoff
 * one second in the future, so that everything completed counts as old. The cleanup index
 * is eventually consistent on real DynamoDB, so it runs again (up to 5 passes) while items
 * remain. Then counts what is left of the name, correlation items included.
 */
export const cleanUp = async (
  store: Pick<DynamoDBSagaStoreFunctions<OrderState>, "deleteCompletedBefore">,
  docClient: DynamoDBDocumentClient,
  tableName: string,
  onProgress?: (deleted: number) => void,
): Promise<Cleanup> => {
  const started = Date.now();
  let deleted = 0;
  let passes = 0;
  let itemsLeft: number;
  do {
    if (passes > 0) await sleep(500);
    passes++;
    const before = deleted;
    deleted += await store.deleteCompletedBefore(SAGA_NAME, new Date(Date.now() + 1000), {
      onProgress: (progress) => onProgress?.(before + progress.deleted),
    });
    itemsLeft = await countItems(docClient, tableName);
  } while (itemsLeft > 0 && passes < 5);
  return { deleted, passes, itemsLeft, ms: Date.now() - started };
};
