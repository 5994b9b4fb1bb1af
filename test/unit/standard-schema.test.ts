/**
 * `stateCodec` takes a Standard Schema validator (`~standard`, as zod, valibot and arktype
 * implement it) as well as an io-ts type: writes are refused before any request, reads are
 * checked and get the validator's output, and messages never quote the state.
 */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import {
  createDynamoDBSagaStore,
  InvalidItemError,
  InvalidStateError,
  type SagaState,
  type StandardSchemaLike,
  type StoreCommand,
} from "../../src";
import { encodeState } from "../../src/internals";
import { insertInput } from "../../src/commands";

interface Order extends SagaState {
  readonly email: string;
  readonly total: number;
}

const TABLE = { tableName: "sagas", correlationIndexName: "GSI1", cleanupIndexName: "GSI2" };

/** A hand-written Standard Schema validator: `total` must be a number; optionally async. */
const orderSchema = (async: boolean): StandardSchemaLike<Order> => ({
  "~standard": {
    version: 1,
    vendor: "test",
    validate: (value) => {
      const total = (value as { total?: unknown }).total;
      const result =
        typeof total === "number"
          ? { value: { ...(value as Order), total: Math.round(total) } }
          : {
              issues: [
                { message: `Expected number, received ${JSON.stringify(total)}`, path: ["total"] },
              ],
            };
      return async ? Promise.resolve(result) : result;
    },
  },
});

const metadata = {
  sagaId: "saga-1",
  version: 0,
  createdAt: new Date("2026-01-01T00:00:00.000Z"),
  updatedAt: new Date("2026-01-01T00:00:00.000Z"),
  isCompleted: false,
};
const SECRET = "ada@example.com";

describe.each([false, true])("Standard Schema validator (async: %s)", (async) => {
  it("refuses a state it rejects before any request, naming the path, never the value", async () => {
    const send = jest.fn();
    const store = createDynamoDBSagaStore<Order>({
      send,
      tableName: "sagas",
      stateCodec: orderSchema(async),
    });
    const bad = { metadata, email: SECRET, total: SECRET } as unknown as Order;
    const error: unknown = await store.insert("OrderSaga", "o-1", bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidStateError);
    expect((error as Error).message).toContain("state.total");
    expect((error as Error).message).not.toContain(SECRET);
    expect(JSON.stringify(error)).not.toContain(SECRET);
    // The validator's own words are kept where only a deliberate look finds them.
    expect((error as InvalidStateError).report).toContain("Expected number");
    expect(send).not.toHaveBeenCalled();
  });

  it("checks what it reads and returns the validator's output", async () => {
    const stored = (total: unknown) =>
      insertInput(
        TABLE,
        "OrderSaga",
        "o-1",
        encodeState({ metadata, email: SECRET, total } as unknown as Order, {}, undefined),
      ).TransactItems![0]!.Put!.Item;
    const answers = [{ Item: stored(10.4) }, { Item: stored("ten") }];
    const send = jest.fn(async (command: StoreCommand) => {
      expect(command).toBeInstanceOf(GetCommand);
      return answers.shift();
    });
    const store = createDynamoDBSagaStore<Order>({
      send,
      tableName: "sagas",
      stateCodec: orderSchema(async),
    });
    expect((await store.getById("OrderSaga", "saga-1"))?.total).toBe(10);
    const error: unknown = await store.getById("OrderSaga", "saga-1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidItemError);
    expect((error as Error).message).toContain("state.total");
    expect((error as Error).message).not.toContain("ten");
  });
});

it("refuses a stateCodec that is neither io-ts nor Standard Schema", () => {
  expect(() =>
    createDynamoDBSagaStore({ send: jest.fn(), tableName: "sagas", stateCodec: {} as never }),
  ).toThrow(expect.objectContaining({ code: "options.invalid" }));
});
