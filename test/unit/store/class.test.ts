/** `DynamoDBSagaStore`, the class: the functional store over a client's `send`. */
import {
  BatchExecuteStatementCommand,
  GetCommand,
  QueryCommand,
  ScanCommand,
  type TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  ConcurrencyError,
  DynamoDBSagaStore,
  InvalidKeyError,
  type StoreCommand,
} from "../../../src";
import { deleteInput } from "../../../src/commands";
import { rejection } from "../../support/caught";
import { awsError } from "../../support/fake-send";
import {
  CORRELATION_ID,
  CUTOFF,
  makeState,
  NAME,
  SAGA_ID,
  storedItem,
  TABLE,
  type OrderState,
} from "../../support/unit-states";

describe("DynamoDBSagaStore (class)", () => {
  /** A client whose `send` needs `this`, like the SDK's. */
  class FakeClient {
    readonly calls: StoreCommand[] = [];
    constructor(private readonly answer: (command: StoreCommand) => unknown) {}
    async send(command: StoreCommand): Promise<unknown> {
      this.calls.push(command);
      return this.answer(command);
    }
  }

  it("reads through the client's send, called as a method", async () => {
    const state = makeState();
    const client = new FakeClient((command) =>
      (command as GetCommand).input.ProjectionExpression === "sagaId"
        ? { Item: { sagaId: SAGA_ID } }
        : { Item: storedItem(state) },
    );
    const store = new DynamoDBSagaStore<OrderState>({ client, tableName: "sagas" });

    expect(await store.getById(NAME, SAGA_ID)).toEqual(state);
    expect(await store.getByCorrelationId(NAME, CORRELATION_ID)).toEqual(state);
    expect(client.calls).toHaveLength(3);
    expect(client.calls.every((c) => c instanceof GetCommand)).toBe(true);
    expect(client.calls[0]!.input).toMatchObject({ TableName: "sagas", ConsistentRead: true });
  });

  it("passes options through (eventual consistency)", async () => {
    const client = new FakeClient(() => ({ Items: [] }));
    const store = new DynamoDBSagaStore({ client, tableName: "sagas", consistency: "eventual" });
    expect(await store.getByCorrelationId(NAME, CORRELATION_ID)).toBeNull();
    expect((client.calls[0] as GetCommand).input.ConsistentRead).toBe(false);
  });

  it("writes like the functional store: insert, update, delete", async () => {
    const client = new FakeClient((command) =>
      command instanceof GetCommand ? { Item: { correlationId: CORRELATION_ID } } : {},
    );
    const store = new DynamoDBSagaStore<OrderState>({ client, tableName: "sagas" });
    await store.insert(NAME, CORRELATION_ID, makeState());
    await store.update(NAME, makeState({}, { version: 1 }), 0);
    await store.delete(NAME, SAGA_ID);
    expect(client.calls.map((c) => c.constructor.name)).toEqual([
      "TransactWriteCommand",
      "UpdateCommand",
      "GetCommand",
      "TransactWriteCommand",
    ]);
    expect(client.calls[3]!.input).toEqual(deleteInput(TABLE, NAME, SAGA_ID, CORRELATION_ID));
  });

  it("throws the same typed errors (ConcurrencyError on a version conflict)", async () => {
    const client = new FakeClient(() => {
      throw awsError("ConditionalCheckFailedException", { Item: { version: { N: "7" } } });
    });
    const store = new DynamoDBSagaStore<OrderState>({ client, tableName: "sagas" });
    const error = await rejection(store.update(NAME, makeState({}, { version: 3 }), 2));
    expect(error.name).toBe("ConcurrencyError");
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({ sagaId: SAGA_ID, expectedVersion: 2, actualVersion: 7 });
    expect(client.calls).toHaveLength(1);
  });

  it("lists and cleans up", async () => {
    const state = makeState();
    const client = new FakeClient((command) => {
      if (command instanceof QueryCommand) return { Items: [storedItem(state)] };
      if (command instanceof ScanCommand) {
        return command.input.Segment === 0 ? { Items: [{ sagaId: "s", correlationId: "c" }] } : {};
      }
      if (command instanceof BatchExecuteStatementCommand) {
        return { Responses: command.input.Statements!.map(() => ({ Item: { sagaId: "s" } })) };
      }
      throw new Error(`unexpected ${command.constructor.name}`);
    });
    const store = new DynamoDBSagaStore<OrderState>({ client, tableName: "sagas" });
    expect(await store.findByName(NAME)).toEqual({ items: [state] });
    const seen: OrderState[] = [];
    for await (const s of store.findAllByName(NAME)) seen.push(s);
    expect(seen).toEqual([state]);
    const onProgress = jest.fn();
    expect(await store.deleteCompletedBefore(NAME, CUTOFF, { segments: 2, onProgress })).toBe(1);
    expect(onProgress).toHaveBeenCalledWith({ deleted: 1, scanned: 1 });
    expect(client.calls.filter((c) => c instanceof ScanCommand)).toHaveLength(2);
    expect(client.calls.filter((c) => c instanceof BatchExecuteStatementCommand)).toHaveLength(2);
  });

  it("passes completedSagaTtlSeconds through", async () => {
    const client = new FakeClient(() => ({}));
    const store = new DynamoDBSagaStore<OrderState>({
      client,
      tableName: "sagas",
      completedSagaTtlSeconds: 60,
    });
    await store.insert(NAME, CORRELATION_ID, makeState({}, { isCompleted: true }));
    const item = (client.calls[0] as TransactWriteCommand).input.TransactItems![0]!.Put!.Item!;
    expect(typeof item.expiresAt).toBe("number");
    expect(
      () => new DynamoDBSagaStore({ client, tableName: "sagas", completedSagaTtlSeconds: -1 }),
    ).toThrow(expect.objectContaining({ code: "options.invalid" }));
  });

  it("refuses bad input before sending", async () => {
    const client = new FakeClient(() => ({}));
    const store = new DynamoDBSagaStore({ client, tableName: "sagas" });
    const error = await rejection(store.getById("A#B", SAGA_ID));
    expect(error).toBeInstanceOf(InvalidKeyError);
    expect(client.calls).toHaveLength(0);
  });
});
