/**
 * The store's opt-in ensure step is part of each operation: its failures are typed like the
 * operation's own, and a failed step is tried again by the next operation.
 */
import {
  ConfigurationError,
  createDynamoDBSagaStore,
  DynamoDBRequestError,
  ensureTableFirst,
  TransientError,
} from "../../src";
import type { TableClient } from "../../src/table";

const throttled = () =>
  Object.assign(new Error("Rate of requests exceeds the allowed throughput"), {
    name: "ThrottlingException",
    $fault: "client",
    $metadata: { httpStatusCode: 400 },
  });

const denied = () =>
  Object.assign(new Error("User is not authorized to perform: dynamodb:DescribeTable"), {
    name: "AccessDeniedException",
    $fault: "client",
    $metadata: { httpStatusCode: 400 },
  });

const storeWith = (fail: () => Error) => {
  const client: TableClient = { send: jest.fn(() => Promise.reject(fail())) };
  const send = jest.fn(() => Promise.resolve({}));
  const store = createDynamoDBSagaStore({
    send,
    tableName: "sagas",
    ensureTable: ensureTableFirst(client),
  });
  return { store, client, send };
};

it("a throttled DescribeTable in the ensure step is a TransientError naming the saga", async () => {
  const { store, send } = storeWith(throttled);
  const error: unknown = await store.getById("OrderSaga", "saga-1").catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TransientError);
  expect((error as Error).message).toContain('ensureTable of saga "OrderSaga"');
  expect((error as TransientError).cause).toMatchObject({ name: "ThrottlingException" });
  expect(send).not.toHaveBeenCalled();
});

it("a refused ensure step is a typed DynamoDBRequestError, and the next call tries again", async () => {
  const { store, client } = storeWith(denied);
  const first: unknown = await store.getById("OrderSaga", "saga-1").catch((e: unknown) => e);
  expect(first).toBeInstanceOf(DynamoDBRequestError);
  expect(first).toMatchObject({ code: "request.failed", sagaName: "OrderSaga" });
  await store.getById("OrderSaga", "saga-1").catch(() => undefined);
  expect(client.send).toHaveBeenCalledTimes(2);
});

// The update's read-back after a TransientError must not run the failed step a second time
// (with real waits, one message would block twice as long).
it("an update whose ensure step fails runs the step once, and sends nothing", async () => {
  const { store, client, send } = storeWith(throttled);
  const state = {
    metadata: {
      sagaId: "saga-1",
      version: 1,
      createdAt: new Date(0),
      updatedAt: new Date(0),
      isCompleted: false,
    },
  };
  await expect(store.update("OrderSaga", state, 0)).rejects.toBeInstanceOf(TransientError);
  expect(client.send).toHaveBeenCalledTimes(1);
  expect(send).not.toHaveBeenCalled();
});

// A step from another copy of the package (the CommonJS build beside the ESM one) throws its
// own ConfigurationError class: a wait that ran out is told by its code and details.
it("a table wait that ran out, from any copy of the package, is a TransientError", async () => {
  const timedOut = Object.assign(new Error("table sagas did not become ACTIVE within 1s"), {
    code: "table.invalid",
    details: { timedOut: true },
  });
  const send = jest.fn(() => Promise.resolve({}));
  const store = createDynamoDBSagaStore({
    send,
    tableName: "sagas",
    ensureTable: () => Promise.reject(timedOut),
  });
  const error: unknown = await store.getById("OrderSaga", "saga-1").catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TransientError);
  expect((error as TransientError).cause).toBe(timedOut);
});

it("an ensureTable option that is not a step (0.3.0 previews took `true`) is refused at once", () => {
  expect(() =>
    createDynamoDBSagaStore({
      send: jest.fn(),
      tableName: "sagas",
      ensureTable: true as unknown as never,
    }),
  ).toThrow(expect.objectContaining({ code: "options.invalid" }));
});

// The store tells its step's failures apart without writing onto them: a frozen error (a
// custom step's own) comes through as it is, not as a TypeError.
it("a frozen error from the step reaches the caller unchanged", async () => {
  const frozen = Object.freeze(new ConfigurationError("table.invalid", "table sagas is not ours"));
  const store = createDynamoDBSagaStore({
    send: jest.fn(() => Promise.resolve({})),
    tableName: "sagas",
    ensureTable: () => Promise.reject(frozen),
  });
  await expect(store.getById("OrderSaga", "saga-1")).rejects.toBe(frozen);
});
