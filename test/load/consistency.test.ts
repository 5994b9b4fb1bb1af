/** The load test's audit finds each kind of inconsistency it is meant to find (no DynamoDB). */
import { randomUUID } from "node:crypto";
import { commands, DEFAULT_LAYOUT, encodeState } from "../../src/internals";
import {
  handleOrderMessage,
  initialOrderState,
  MESSAGE_TYPES,
  type OrderMessageType,
} from "../../workload/order-saga";
import { buildWorkload, type OrderPlan } from "../../workload/deliveries";
import { auditTable, type Expectation } from "./consistency";

const SAGA = "OrderFulfilment";
const TABLE = { tableName: "t", correlationIndexName: "GSI1", cleanupIndexName: "GSI2" };
const { plans } = buildWorkload({ orders: 3, seed: 7 });
const [first, second, third] = [...plans.values()] as [OrderPlan, OrderPlan, OrderPlan];

/** The items a store leaves for a saga that applied `types` (each once) in `updates` updates. */
const itemsOf = (
  plan: OrderPlan,
  {
    types = MESSAGE_TYPES,
    updates = types.length,
    sagaId = randomUUID(),
  }: { types?: readonly OrderMessageType[]; updates?: number; sagaId?: string } = {},
) => {
  const now = new Date();
  let state = initialOrderState(plan.messages.OrderPlaced, {
    sagaId,
    version: 0,
    createdAt: now,
    updatedAt: now,
    isCompleted: false,
  });
  for (const type of types) {
    const { newState, isCompleted } = handleOrderMessage(plan.messages[type], state);
    state = { ...newState, metadata: { ...newState.metadata, isCompleted } };
  }
  state = { ...state, metadata: { ...state.metadata, version: updates } };
  const encoded = encodeState(state, { sagaName: SAGA }, undefined);
  const input = commands.insertInput(TABLE, SAGA, plan.orderId, encoded);
  const [saga, correlation] = input.TransactItems!.map((action) => action.Put!.Item!) as [
    Record<string, unknown>,
    Record<string, unknown>,
  ];
  return { saga, correlation };
};

const expectations = (...list: Array<[OrderPlan, number]>) =>
  new Map<string, Expectation>(
    list.map(([plan, updates]) => [
      plan.orderId,
      { messageIds: new Set(MESSAGE_TYPES.map((t) => plan.messages[t].messageId)), updates },
    ]),
  );

const expected = expectations([first, 4], [second, 5]);

it("finds nothing wrong in a consistent table", () => {
  const a = itemsOf(first);
  const b = itemsOf(second, { updates: 5 });
  const audit = auditTable([a.saga, a.correlation, b.saga, b.correlation], SAGA, expected);
  expect(audit).toEqual({ sagaItems: 2, correlationItems: 2, problems: [] });
});

it("finds a saga without its correlation item, and a correlation item without its saga", () => {
  const a = itemsOf(first);
  const b = itemsOf(second, { updates: 5 });
  const { problems } = auditTable([a.saga, b.correlation], SAGA, expected);
  expect(problems).toEqual([
    expect.stringMatching(/^saga .*: no correlation item for order-00001$/),
    expect.stringMatching(/^correlation item order-00002: names saga .*, which does not exist$/),
    "order-00002: no saga",
  ]);
});

it("finds two sagas of one correlation id, and a correlation item naming another saga", () => {
  const a = itemsOf(first);
  const twin = itemsOf(first);
  const b = itemsOf(second, { updates: 5 });
  const { problems } = auditTable(
    [a.saga, a.correlation, twin.saga, b.saga, b.correlation],
    SAGA,
    expected,
  );
  expect(problems).toEqual([
    expect.stringMatching(/: correlation item of order-00001 names /),
    expect.stringMatching(/^order-00001: 2 sagas/),
  ]);
});

it("finds a message missing, a message applied twice, a wrong version, and an unknown saga", () => {
  const missing = itemsOf(first, { types: MESSAGE_TYPES.slice(0, 3), updates: 4 });
  const b = itemsOf(second, { updates: 4 });
  const stray = itemsOf(third);
  const twice = JSON.parse(b.saga.state as string) as { applied: string[] };
  twice.applied.push(twice.applied[0]!);
  const items = [
    missing.saga,
    missing.correlation,
    { ...b.saga, state: JSON.stringify(twice) },
    b.correlation,
    stray.saga,
    stray.correlation,
  ];
  const { problems } = auditTable(items, SAGA, expected);
  expect(problems).toEqual([
    expect.stringMatching(/\(order-00001\): applied .*, expected .* once each$/),
    expect.stringMatching(/\(order-00001\): history .*, expected .* once each$/),
    expect.stringMatching(/\(order-00001\): not completed/),
    expect.stringMatching(/\(order-00002\): applied .*, expected .* once each$/),
    expect.stringMatching(/\(order-00002\): version 4, expected 5 /),
    "order-00003: a saga nobody started",
  ]);
});

it("finds items that are neither sagas nor correlation items", () => {
  const { problems } = auditTable(
    [
      { PK: DEFAULT_LAYOUT.sagaPartitions("Other")[0]!, SK: "ID#x" },
      { PK: DEFAULT_LAYOUT.sagaPartitions(SAGA)[0]!, SK: "OTHER#x" },
    ],
    SAGA,
    new Map(),
  );
  expect(problems).toEqual([
    expect.stringMatching(/^an item outside the partitions of OrderFulfilment/),
    "an item of unknown kind: OTHER#x",
  ]);
});
