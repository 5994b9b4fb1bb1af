/**
 * The request seam: every request of a store, data plane and its opt-in ensure step alike,
 * passes one observer with its context (operation and saga), so metrics and tracing need no
 * change to the store. The meter is built on it and names commands without `constructor.name`.
 */
import { DescribeTableCommand, DescribeTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import {
  createDynamoDBSagaStore,
  createRequestMeter,
  type RequestEnd,
  type RequestObserver,
  type RequestStart,
  type StoreCommand,
  type TableClient,
  ensureTableFirst,
} from "../../src";

const metadata = (version: number) => ({
  sagaId: "saga-1",
  version,
  createdAt: new Date("2026-01-01T00:00:00.000Z"),
  updatedAt: new Date("2026-01-01T00:00:00.000Z"),
  isCompleted: false,
});

/** An observer that records what it sees, like a tracer's spans. */
const recorder = () => {
  const spans: Array<{ start: RequestStart; end?: RequestEnd }> = [];
  const observer: RequestObserver = {
    onRequest: (start) => {
      const span: { start: RequestStart; end?: RequestEnd } = { start };
      spans.push(span);
      return (end) => {
        span.end = end;
      };
    },
  };
  return { observer, spans };
};

it("sees every request with the operation and the saga, before and after", async () => {
  const { observer, spans } = recorder();
  const send = jest.fn(async (command: StoreCommand) =>
    command instanceof GetCommand ? { Item: { sagaId: "saga-1" } } : {},
  );
  const store = createDynamoDBSagaStore({ send, tableName: "sagas", onRequest: observer });
  await store.update("OrderSaga", { metadata: metadata(1) }, 0);
  await store.getByCorrelationId("OrderSaga", "order-1").catch(() => undefined);

  expect(spans.map((s) => [s.start.command, s.start.context])).toEqual([
    ["UpdateItem", { operation: "update", sagaName: "OrderSaga", sagaId: "saga-1" }],
    [
      "GetItem",
      { operation: "getByCorrelationId", sagaName: "OrderSaga", correlationId: "order-1" },
    ],
    // The saga's own read knows its id too.
    [
      "GetItem",
      {
        operation: "getByCorrelationId",
        sagaName: "OrderSaga",
        correlationId: "order-1",
        sagaId: "saga-1",
      },
    ],
  ]);
  expect(spans.every((s) => s.end?.ok === true && s.end.durationMs >= 0)).toBe(true);
  expect((spans[0]!.start.input as UpdateCommand["input"]).TableName).toBe("sagas");
});

it("sees failed requests with the raw error, before the store types it", async () => {
  const { observer, spans } = recorder();
  const throttled = Object.assign(new Error("slow down"), { name: "ThrottlingException" });
  const send = jest.fn(async () => Promise.reject(throttled));
  const store = createDynamoDBSagaStore({ send, tableName: "sagas", onRequest: observer });
  await expect(store.getById("OrderSaga", "saga-1")).rejects.toMatchObject({
    name: "TransientError",
  });
  expect(spans[0]!.end).toMatchObject({ ok: false, error: throttled });
});

it("sees the opt-in ensure step's control-plane requests, in the context of the operation", async () => {
  const { observer, spans } = recorder();
  const client: TableClient = {
    send: jest.fn(async (command: unknown) => {
      if (command instanceof DescribeTableCommand) {
        return {
          Table: {
            TableStatus: "ACTIVE",
            KeySchema: [
              { AttributeName: "PK", KeyType: "HASH" },
              { AttributeName: "SK", KeyType: "RANGE" },
            ],
            AttributeDefinitions: ["PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"].map(
              (AttributeName) => ({ AttributeName, AttributeType: "S" }),
            ),
            GlobalSecondaryIndexes: [
              {
                IndexName: "GSI1",
                IndexStatus: "ACTIVE",
                KeySchema: [
                  { AttributeName: "GSI1PK", KeyType: "HASH" },
                  { AttributeName: "GSI1SK", KeyType: "RANGE" },
                ],
                Projection: { ProjectionType: "KEYS_ONLY" },
              },
              {
                IndexName: "GSI2",
                IndexStatus: "ACTIVE",
                KeySchema: [
                  { AttributeName: "GSI2PK", KeyType: "HASH" },
                  { AttributeName: "GSI2SK", KeyType: "RANGE" },
                ],
                Projection: {
                  ProjectionType: "INCLUDE",
                  NonKeyAttributes: ["sagaId", "correlationId", "completedAt"],
                },
              },
            ],
          },
        };
      }
      if (command instanceof DescribeTimeToLiveCommand) {
        return { TimeToLiveDescription: { TimeToLiveStatus: "DISABLED" } };
      }
      return {};
    }),
  };
  const send = jest.fn(async () => ({}));
  const store = createDynamoDBSagaStore({
    send,
    tableName: "sagas",
    onRequest: observer,
    ensureTable: ensureTableFirst(client),
  });
  await store.getById("OrderSaga", "saga-1").catch(() => undefined);
  const ensure = spans.filter((s) => s.start.context.operation === "ensureTable");
  expect(ensure.length).toBeGreaterThan(0);
  expect(ensure[0]!.start.context).toEqual({
    operation: "ensureTable",
    sagaName: "OrderSaga",
    sagaId: "saga-1",
  });
  expect(spans.map((s) => s.start.context.operation)).toContain("getById");
});

it("the request meter counts per command and per operation from the capacity DynamoDB reports", async () => {
  const meter = createRequestMeter();
  const send = jest.fn(async (command: StoreCommand) => {
    // The meter asked for capacity on every request.
    expect((command.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity).toBe(
      "TOTAL",
    );
    return command instanceof UpdateCommand
      ? { ConsumedCapacity: { TableName: "sagas", CapacityUnits: 1, WriteCapacityUnits: 1 } }
      : { ConsumedCapacity: { TableName: "sagas", CapacityUnits: 0.5 } };
  });
  const store = createDynamoDBSagaStore({ send, tableName: "sagas", onRequest: meter.observer });
  await store.update("OrderSaga", { metadata: metadata(1) }, 0);
  await store.getById("OrderSaga", "saga-1").catch(() => undefined);
  const snapshot = meter.snapshot();
  // update; getById's read; on its miss, the layout marker and the 0.2.x probe.
  expect(snapshot).toMatchObject({ requests: 4, readCapacityUnits: 1.5, writeCapacityUnits: 1 });
  expect(snapshot.byCommand).toEqual({
    UpdateItem: { requests: 1, rcu: 0, wcu: 1 },
    GetItem: { requests: 2, rcu: 1, wcu: 0 },
    Query: { requests: 1, rcu: 0.5, wcu: 0 },
  });
  expect(snapshot.byOperation).toEqual({
    update: { requests: 1, rcu: 0, wcu: 1 },
    getById: { requests: 1, rcu: 0.5, wcu: 0 },
    layoutCheck: { requests: 1, rcu: 0.5, wcu: 0 },
    legacyCheck: { requests: 1, rcu: 0.5, wcu: 0 },
  });
});
