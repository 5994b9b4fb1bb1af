import {
  GetCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  ConcurrencyError,
  ConfigurationError,
  createDynamoDBSagaStore,
  DynamoDBRequestError,
  DynamoDBSagaStore,
  encodeState,
  InvalidItemError,
  InvalidKeyError,
  InvalidStateError,
  keys,
  MAX_ITEM_BYTES,
  SagaAlreadyExistsError,
  SagaNotFoundError,
  StateTooLargeError,
  TransientError,
  type DynamoDBSagaStoreDeps,
  type SagaState,
  type SagaStateMetadata,
  type StoreCommand,
} from "../../src";
import {
  cleanupDeleteInput,
  deleteInput,
  insertInput,
  updateInput,
  type TableNames,
} from "../../src/commands";
import { itemSize } from "../../src/size";

const { KEY_LIMITS } = keys;

// ---------------------------------------------------------------------------------------------
// Helpers

const NAME = "OrderSaga";
const SAGA_ID = "saga-1";
const CORRELATION_ID = "order-42";
const NOW = new Date("2024-05-02T08:00:00.000Z");
const TABLE: TableNames = {
  tableName: "sagas",
  correlationIndexName: "GSI1",
  cleanupIndexName: "GSI2",
};

type OrderState = SagaState & Record<string, unknown>;

const metadata = (overrides: Partial<SagaStateMetadata> = {}): SagaStateMetadata => ({
  sagaId: SAGA_ID,
  version: 0,
  createdAt: new Date("2024-05-01T10:00:00.000Z"),
  updatedAt: new Date("2024-05-01T10:00:05.000Z"),
  isCompleted: false,
  ...overrides,
});

/** A valid state: application fields (with a Date) plus metadata. */
const makeState = (
  fields: Record<string, unknown> = { total: 10, dueAt: new Date("2024-06-01T00:00:00.000Z") },
  meta: Partial<SagaStateMetadata> = {},
): OrderState => ({ ...fields, metadata: metadata(meta) });

/** The stored saga item of a state, as `insert` writes it (what a Get would answer). */
const storedItem = (state: OrderState, correlationId = CORRELATION_ID): Record<string, unknown> =>
  insertInput(TABLE, NAME, correlationId, encodeState(state, {}, undefined), NOW).TransactItems![0]!
    .Put!.Item as Record<string, unknown>;

/** A fake `send` answering with `handler`; records every command. */
const fakeSend = (handler: (command: StoreCommand, index: number) => unknown) => {
  const calls: StoreCommand[] = [];
  const send = jest.fn(async (command: StoreCommand) => {
    calls.push(command);
    return handler(command, calls.length - 1);
  });
  return { send, calls };
};

/** A fake `send` giving the answers in order; an Error answer is thrown. */
const scriptedSend = (...answers: unknown[]) =>
  fakeSend((_command, index) => {
    if (index >= answers.length) throw new Error(`unexpected call #${index + 1}`);
    const answer = answers[index];
    if (answer instanceof Error) throw answer;
    return answer;
  });

/** An error shaped like the ones the AWS SDK throws. */
const awsError = (name: string, extra: Record<string, unknown> = {}): Error =>
  Object.assign(new Error(`${name}: something happened`), {
    name,
    $metadata: { httpStatusCode: 400 },
    ...extra,
  });

const cancelled = (reasons: Array<Record<string, unknown>>): Error =>
  awsError("TransactionCanceledException", { CancellationReasons: reasons });

const makeStore = (
  send: DynamoDBSagaStoreDeps["send"],
  deps: Partial<DynamoDBSagaStoreDeps<OrderState>> = {},
) => createDynamoDBSagaStore<OrderState>({ send, tableName: "sagas", clock: () => NOW, ...deps });

/** What a promise rejects with (fails the test when it resolves). */
const rejection = async (promise: Promise<unknown>): Promise<Record<string, unknown>> => {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error("expected the promise to reject");
};

// ---------------------------------------------------------------------------------------------

describe("getById", () => {
  it("reads the saga item strongly by default and decodes it (Dates back as Date)", async () => {
    const state = makeState();
    const { send, calls } = scriptedSend({ Item: storedItem(state) });
    const got = await makeStore(send).getById(NAME, SAGA_ID);

    expect(got).toEqual(state);
    expect(got!.dueAt).toBeInstanceOf(Date);
    expect(got!.metadata.createdAt).toBeInstanceOf(Date);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeInstanceOf(GetCommand);
    expect(calls[0]!.input).toEqual({
      TableName: "sagas",
      Key: { PK: "SAGA#OrderSaga", SK: "ID#saga-1" },
      ConsistentRead: true,
    });
  });

  it("reads eventually when consistency is eventual", async () => {
    const { send, calls } = scriptedSend({ Item: storedItem(makeState()) });
    await makeStore(send, { consistency: "eventual" }).getById(NAME, SAGA_ID);
    expect(calls[0]).toBeInstanceOf(GetCommand);
    expect((calls[0] as GetCommand).input.ConsistentRead).toBe(false);
  });

  it("returns null when there is no item", async () => {
    const { send } = scriptedSend({});
    expect(await makeStore(send).getById(NAME, "missing")).toBeNull();
  });

  it("throws InvalidItemError for an item it cannot decode", async () => {
    const { send } = scriptedSend({ Item: { ...storedItem(makeState()), state: "{" } });
    const error = await rejection(makeStore(send).getById(NAME, SAGA_ID));
    expect(error).toBeInstanceOf(InvalidItemError);
    expect(error.code).toBe("item.invalid");
  });
});

describe("getByCorrelationId", () => {
  it("strong: reads the correlation guard, then the saga, both strongly (2 GetCommands)", async () => {
    const state = makeState();
    const { send, calls } = scriptedSend(
      { Item: { sagaId: SAGA_ID } },
      { Item: storedItem(state) },
    );
    const got = await makeStore(send).getByCorrelationId(NAME, CORRELATION_ID);

    expect(got).toEqual(state);
    expect(got!.dueAt).toBeInstanceOf(Date);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toBeInstanceOf(GetCommand);
    expect(calls[0]!.input).toEqual({
      TableName: "sagas",
      Key: { PK: "SAGA#OrderSaga", SK: "CORR#order-42" },
      ConsistentRead: true,
      ProjectionExpression: "sagaId",
    });
    expect(calls[1]).toBeInstanceOf(GetCommand);
    expect(calls[1]!.input).toEqual({
      TableName: "sagas",
      Key: { PK: "SAGA#OrderSaga", SK: "ID#saga-1" },
      ConsistentRead: true,
    });
  });

  it("strong: returns null after one read when no saga holds the correlation id", async () => {
    const { send, calls } = scriptedSend({});
    expect(await makeStore(send).getByCorrelationId(NAME, CORRELATION_ID)).toBeNull();
    expect(calls).toHaveLength(1);
  });

  it("eventual: one QueryCommand on GSI1", async () => {
    const state = makeState();
    const { send, calls } = scriptedSend({ Items: [storedItem(state)] });
    const got = await makeStore(send, { consistency: "eventual" }).getByCorrelationId(
      NAME,
      CORRELATION_ID,
    );

    expect(got).toEqual(state);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeInstanceOf(QueryCommand);
    expect(calls[0]!.input).toEqual({
      TableName: "sagas",
      IndexName: "GSI1",
      KeyConditionExpression: "GSI1PK = :pk AND GSI1SK = :sk",
      ExpressionAttributeValues: { ":pk": "SAGA#OrderSaga", ":sk": "CORR#order-42" },
      Limit: 1,
    });
  });

  it("eventual: uses a custom correlation index name", async () => {
    const { send, calls } = scriptedSend({ Items: [] });
    await makeStore(send, {
      consistency: "eventual",
      correlationIndexName: "ByCorrelation",
    }).getByCorrelationId(NAME, CORRELATION_ID);
    expect((calls[0] as QueryCommand).input.IndexName).toBe("ByCorrelation");
  });

  it("eventual: returns null when the query finds nothing", async () => {
    const { send } = scriptedSend({ Items: [] });
    const store = makeStore(send, { consistency: "eventual" });
    expect(await store.getByCorrelationId(NAME, CORRELATION_ID)).toBeNull();
  });
});

describe("insert", () => {
  it("sends one TransactWriteCommand: saga item and correlation guard", async () => {
    const state = makeState();
    const { send, calls } = scriptedSend({});
    await makeStore(send).insert(NAME, CORRELATION_ID, state);

    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeInstanceOf(TransactWriteCommand);
    expect(calls[0]!.input).toEqual(
      insertInput(TABLE, NAME, CORRELATION_ID, encodeState(state, {}, undefined), NOW),
    );
    const items = (calls[0] as TransactWriteCommand).input.TransactItems!;
    expect(items.map((action) => action.Put?.Item?.SK)).toEqual(["ID#saga-1", "CORR#order-42"]);
  });

  it("throws ConcurrencyError when another saga holds the correlation id (lost start race)", async () => {
    const { send, calls } = scriptedSend(
      cancelled([
        { Code: "None" },
        { Code: "ConditionalCheckFailed", Item: { sagaId: { S: "other" } } },
      ]),
    );
    const error = await rejection(makeStore(send).insert(NAME, CORRELATION_ID, makeState()));

    expect(error.name).toBe("ConcurrencyError");
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({ sagaId: SAGA_ID, expectedVersion: 0 });
    expect(calls).toHaveLength(1);
  });

  it("throws SagaAlreadyExistsError when the saga id is taken", async () => {
    const { send } = scriptedSend(
      cancelled([{ Code: "ConditionalCheckFailed" }, { Code: "None" }]),
    );
    const error = await rejection(makeStore(send).insert(NAME, CORRELATION_ID, makeState()));
    expect(error).toBeInstanceOf(SagaAlreadyExistsError);
    expect(error).toMatchObject({
      name: "SagaAlreadyExistsError",
      code: "saga.alreadyExists",
      sagaName: NAME,
      sagaId: SAGA_ID,
    });
  });
});

describe("update", () => {
  it("sends one UpdateCommand conditional on the expected version", async () => {
    const state = makeState({ total: 11 }, { version: 1 });
    const { send, calls } = scriptedSend({});
    await makeStore(send).update(NAME, state, 0);

    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeInstanceOf(UpdateCommand);
    expect(calls[0]!.input).toEqual(
      updateInput(TABLE, NAME, encodeState(state, {}, undefined), 0, NOW),
    );
    expect((calls[0] as UpdateCommand).input.ConditionExpression).toBe(
      "#version = :expectedVersion",
    );
  });

  it.each([
    ["raw attribute values", { version: { N: "7" } }],
    ["plain values", { version: 7 }],
  ])(
    "throws ConcurrencyError with the stored version from the failure (%s), without a second read",
    async (_label, item) => {
      const { send, calls } = scriptedSend(
        awsError("ConditionalCheckFailedException", { Item: item }),
      );
      const error = await rejection(makeStore(send).update(NAME, makeState({}, { version: 6 }), 5));

      expect(error.name).toBe("ConcurrencyError");
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect(error).toMatchObject({ sagaId: SAGA_ID, expectedVersion: 5, actualVersion: 7 });
      expect(send).toHaveBeenCalledTimes(1);
      expect(calls[0]).toBeInstanceOf(UpdateCommand);
    },
  );

  it("throws SagaNotFoundError when the failure carries no item", async () => {
    const { send } = scriptedSend(awsError("ConditionalCheckFailedException"));
    const error = await rejection(makeStore(send).update(NAME, makeState({}, { version: 1 }), 0));
    expect(error).toBeInstanceOf(SagaNotFoundError);
    expect(error).toMatchObject({ code: "saga.notFound", sagaName: NAME, sagaId: SAGA_ID });
    expect(send).toHaveBeenCalledTimes(1);
  });
});

describe("failures of requests", () => {
  it.each<[string, Error]>([
    ["ProvisionedThroughputExceededException", awsError("ProvisionedThroughputExceededException")],
    ["ThrottlingException", awsError("ThrottlingException")],
    ["RequestLimitExceeded", awsError("RequestLimitExceeded")],
    ["an HTTP 500", awsError("UnknownError", { $metadata: { httpStatusCode: 500 } })],
    ["ECONNRESET", Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })],
    ["a TimeoutError", Object.assign(new Error("timed out"), { name: "TimeoutError" })],
  ])("%s becomes a TransientError whose cause is the original error", async (_label, original) => {
    const { send } = scriptedSend(original);
    const error = await rejection(makeStore(send).getById(NAME, SAGA_ID));

    expect(error.name).toBe("TransientError");
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
    expect(error.message).toContain(`saga "${NAME}"`);
  });

  it("a cancelled transaction with a TransactionConflict reason becomes a TransientError", async () => {
    const original = cancelled([{ Code: "TransactionConflict" }, { Code: "None" }]);
    const { send } = scriptedSend(original);
    const error = await rejection(makeStore(send).insert(NAME, CORRELATION_ID, makeState()));

    expect(error.name).toBe("TransientError");
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });

  it("throttling of an update becomes a TransientError too", async () => {
    const original = awsError("ThrottlingException");
    const { send } = scriptedSend(original);
    const error = await rejection(makeStore(send).update(NAME, makeState({}, { version: 1 }), 0));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });

  it("a send that throws synchronously is handled like a rejected one", async () => {
    const original = awsError("ThrottlingException");
    const send = jest.fn((): Promise<unknown> => {
      throw original;
    });
    const error = await rejection(makeStore(send).getById(NAME, SAGA_ID));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });

  it("a rejection with a non-Error value becomes a DynamoDBRequestError carrying it", async () => {
    const send = jest.fn(() => Promise.reject("boom"));
    const error = await rejection(makeStore(send).getById(NAME, SAGA_ID));
    expect(error).toBeInstanceOf(DynamoDBRequestError);
    expect(error.cause).toBe("boom");
    expect(error.message).toContain("getById failed: boom");
  });

  it("a ValidationException becomes a DynamoDBRequestError (not retried)", async () => {
    const original = awsError("ValidationException");
    const { send } = scriptedSend(original);
    const error = await rejection(makeStore(send).getById(NAME, SAGA_ID));

    expect(error).toBeInstanceOf(DynamoDBRequestError);
    expect(error).not.toBeInstanceOf(TransientError);
    expect(error).toMatchObject({
      name: "DynamoDBRequestError",
      code: "request.failed",
      sagaName: NAME,
      sagaId: SAGA_ID,
    });
    expect(error.cause).toBe(original);
    expect(error.message).toContain("ValidationException");
  });
});

describe("bad input is refused before any request", () => {
  const refused = async (
    call: (store: ReturnType<typeof makeStore>) => Promise<unknown>,
    errorClass: new (...args: never[]) => Error,
    code: string,
  ) => {
    const { send } = scriptedSend();
    const error = await rejection(call(makeStore(send)));
    expect(error).toBeInstanceOf(errorClass);
    expect(error.code).toBe(code);
    expect(send).not.toHaveBeenCalled();
    return error;
  };

  it.each<[string, (store: ReturnType<typeof makeStore>) => Promise<unknown>]>([
    ["getById", (s) => s.getById("A#B", SAGA_ID)],
    ["getByCorrelationId", (s) => s.getByCorrelationId("A#B", CORRELATION_ID)],
    ["insert", (s) => s.insert("A#B", CORRELATION_ID, makeState())],
    ["update", (s) => s.update("A#B", makeState({}, { version: 1 }), 0)],
    ["delete", (s) => s.delete("A#B", SAGA_ID)],
    ["findByName", (s) => s.findByName("A#B")],
    ["deleteCompletedBefore", (s) => s.deleteCompletedBefore("A#B", NOW)],
  ])("%s with a bad saga name throws InvalidKeyError", async (_label, call) => {
    const error = await refused(call, InvalidKeyError, "key.invalid");
    expect(error.message).toContain('sagaName must not contain "#"');
  });

  it("insert with an empty correlation id or a bad saga id throws InvalidKeyError", async () => {
    await refused((s) => s.insert(NAME, "", makeState()), InvalidKeyError, "key.invalid");
    await refused(
      (s) => s.insert(NAME, CORRELATION_ID, makeState({}, { sagaId: "a\nb" })),
      InvalidKeyError,
      "key.invalid",
    );
  });

  it("insert of a state holding NaN throws InvalidStateError", async () => {
    const error = await refused(
      (s) => s.insert(NAME, CORRELATION_ID, makeState({ total: NaN })),
      InvalidStateError,
      "state.invalid",
    );
    expect(error.message).toContain("state.total is NaN");
  });

  it("update of a state holding NaN throws InvalidStateError", async () => {
    await refused(
      (s) => s.update(NAME, makeState({ total: NaN }, { version: 1 }), 0),
      InvalidStateError,
      "state.invalid",
    );
  });

  it.each([-1, 1.5, NaN])("update with expectedVersion %p throws InvalidStateError", async (v) => {
    const error = await refused(
      (s) => s.update(NAME, makeState({}, { version: 2 }), v),
      InvalidStateError,
      "state.invalid",
    );
    expect(error.message).toContain("expectedVersion must be a non-negative integer");
  });

  it.each([
    [1, 1],
    [0, 1],
  ])(
    "update with metadata.version %p and expectedVersion %p throws InvalidStateError",
    async (version, expected) => {
      const error = await refused(
        (s) => s.update(NAME, makeState({}, { version }), expected),
        InvalidStateError,
        "state.invalid",
      );
      expect(error.message).toContain("must be greater than expectedVersion");
    },
  );

  it("insert of a state over 400 KB throws StateTooLargeError", async () => {
    const error = await refused(
      (s) => s.insert(NAME, CORRELATION_ID, makeState({ blob: "x".repeat(MAX_ITEM_BYTES) })),
      StateTooLargeError,
      "state.tooLarge",
    );
    expect(error.details).toMatchObject({ limitBytes: MAX_ITEM_BYTES });
    expect((error.details as { sizeBytes: number }).sizeBytes).toBeGreaterThan(MAX_ITEM_BYTES);
  });

  it("update of a state over 400 KB throws StateTooLargeError", async () => {
    await refused(
      (s) => s.update(NAME, makeState({ blob: "x".repeat(MAX_ITEM_BYTES) }, { version: 1 }), 0),
      StateTooLargeError,
      "state.tooLarge",
    );
  });

  it("insert of a state just under the limit is sent", async () => {
    const { send } = scriptedSend({});
    const base = itemSize(storedItem(makeState({ blob: "" })));
    const state = makeState({ blob: "x".repeat(MAX_ITEM_BYTES - base) });
    expect(itemSize(storedItem(state))).toBe(MAX_ITEM_BYTES);
    await makeStore(send).insert(NAME, CORRELATION_ID, state);
    expect(send).toHaveBeenCalledTimes(1);
  });

  // The update does not rewrite the keys, sagaName, correlationId or GSI1 attributes, but they
  // stay in the item and count towards DynamoDB's 400 KB. With the longest allowed keys, the
  // item `update` would leave is exactly the item `insert` writes for the same state, and it
  // is 1000 bytes over the limit here: insert refuses it, update must refuse it too.
  describe("with the longest allowed keys", () => {
    const name = "n".repeat(KEY_LIMITS.sagaName);
    const sagaId = "i".repeat(KEY_LIMITS.sagaId);
    const correlationId = "c".repeat(KEY_LIMITS.correlationId);
    const meta = { sagaId, isCompleted: true };
    const sizeOf = (blob: string) =>
      itemSize(
        insertInput(
          TABLE,
          name,
          correlationId,
          encodeState(makeState({ blob }, meta), {}, undefined),
          NOW,
        ).TransactItems![0]!.Put!.Item!,
      );
    const OVER = 1000;
    const blob = "x".repeat(MAX_ITEM_BYTES - sizeOf("") + OVER);

    it("the whole item is over the limit (sanity check of the setup)", () => {
      expect(sizeOf(blob)).toBe(MAX_ITEM_BYTES + OVER);
    });

    it("insert refuses it", async () => {
      await refused(
        (s) => s.insert(name, correlationId, makeState({ blob }, { ...meta, version: 0 })),
        StateTooLargeError,
        "state.tooLarge",
      );
    });

    it("update refuses it too (it does not know the correlation id, so assumes the longest)", async () => {
      await refused(
        (s) => s.update(name, makeState({ blob }, { ...meta, version: 1 }), 0),
        StateTooLargeError,
        "state.tooLarge",
      );
    });
  });
});

describe("functions are free (no this)", () => {
  it("work when destructured", async () => {
    const state = makeState();
    const { send, calls } = fakeSend((command) =>
      command instanceof GetCommand ? { Item: storedItem(state) } : {},
    );
    const { getById, insert, update, delete: remove } = makeStore(send);
    expect(await getById(NAME, SAGA_ID)).toEqual(state);
    await insert(NAME, CORRELATION_ID, state);
    await update(NAME, makeState({}, { version: 1 }), 0);
    await remove(NAME, SAGA_ID);
    expect(calls.map((c) => c.constructor.name)).toEqual([
      "GetCommand",
      "TransactWriteCommand",
      "UpdateCommand",
      "GetCommand",
      "TransactWriteCommand",
    ]);
  });
});

describe("delete", () => {
  it("reads the correlation id strongly, then deletes saga and guard in one transaction", async () => {
    const { send, calls } = scriptedSend({ Item: { correlationId: CORRELATION_ID } }, {});
    await makeStore(send).delete(NAME, SAGA_ID);

    expect(calls).toHaveLength(2);
    expect(calls[0]).toBeInstanceOf(GetCommand);
    expect(calls[0]!.input).toEqual({
      TableName: "sagas",
      Key: { PK: "SAGA#OrderSaga", SK: "ID#saga-1" },
      ConsistentRead: true,
      ProjectionExpression: "correlationId",
    });
    expect(calls[1]).toBeInstanceOf(TransactWriteCommand);
    expect(calls[1]!.input).toEqual(deleteInput(TABLE, NAME, SAGA_ID, CORRELATION_ID));
  });

  it("is a no-op when the saga is missing (one read, no write)", async () => {
    const { send, calls } = scriptedSend({});
    await expect(makeStore(send).delete(NAME, SAGA_ID)).resolves.toBeUndefined();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeInstanceOf(GetCommand);
  });

  it("ignores a concurrent delete between the read and the transaction", async () => {
    const { send, calls } = scriptedSend(
      { Item: { correlationId: CORRELATION_ID } },
      cancelled([{ Code: "ConditionalCheckFailed" }, { Code: "None" }]),
    );
    await expect(makeStore(send).delete(NAME, SAGA_ID)).resolves.toBeUndefined();
    expect(calls).toHaveLength(2);
  });

  it("turns throttling of the transaction into a TransientError", async () => {
    const original = awsError("ThrottlingException");
    const { send } = scriptedSend({ Item: { correlationId: CORRELATION_ID } }, original);
    const error = await rejection(makeStore(send).delete(NAME, SAGA_ID));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });
});

describe("findByName", () => {
  it("queries one page and returns items with an opaque cursor, which leads to the next page", async () => {
    const first = makeState({ n: 1 }, { sagaId: "a" });
    const second = makeState({ n: 2 }, { sagaId: "b" });
    const { send, calls } = scriptedSend(
      {
        Items: [storedItem(first, "ca")],
        LastEvaluatedKey: { PK: "SAGA#OrderSaga", SK: "ID#a" },
      },
      { Items: [storedItem(second, "cb")] },
    );
    const store = makeStore(send);

    const page1 = await store.findByName(NAME, { limit: 1 });
    expect(page1.items).toEqual([first]);
    expect(typeof page1.lastKey).toBe("string");
    expect(page1.lastKey).not.toContain("ID#");
    expect(calls[0]).toBeInstanceOf(QueryCommand);
    expect(calls[0]!.input).toEqual({
      TableName: "sagas",
      KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
      ExpressionAttributeValues: { ":pk": "SAGA#OrderSaga", ":prefix": "ID#" },
      Limit: 1,
      ConsistentRead: true,
    });

    const page2 = await store.findByName(NAME, {
      limit: 1,
      startKey: page1.lastKey,
      completed: true,
    });
    expect(page2).toEqual({ items: [second] });
    expect(page2).not.toHaveProperty("lastKey");
    expect(calls[1]!.input).toMatchObject({
      Limit: 1,
      ExclusiveStartKey: { PK: "SAGA#OrderSaga", SK: "ID#a" },
      FilterExpression: "isCompleted = :completed",
      ExpressionAttributeValues: { ":completed": true },
    });
  });

  it("reads eventually when consistency is eventual", async () => {
    const { send, calls } = scriptedSend({ Items: [] });
    await makeStore(send, { consistency: "eventual" }).findByName(NAME);
    expect((calls[0] as QueryCommand).input.ConsistentRead).toBe(false);
  });

  it("returns an empty page when nothing matches", async () => {
    const { send } = scriptedSend({ Items: [] });
    expect(await makeStore(send).findByName(NAME)).toEqual({ items: [] });
  });

  it.each([
    ["garbage", "not a cursor!"],
    ["a cursor of a non-saga key", Buffer.from("CORR#x").toString("base64url")],
    ["a non-canonical encoding", Buffer.from("ID#a").toString("base64")],
  ])("refuses %s with ConfigurationError cursor.invalid", async (_label, startKey) => {
    const { send } = scriptedSend();
    const error = await rejection(makeStore(send).findByName(NAME, { startKey }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ name: "ConfigurationError", code: "cursor.invalid" });
    expect(send).not.toHaveBeenCalled();
  });

  it.each([0, -1, 1.5])(
    "refuses limit %p with ConfigurationError options.invalid",
    async (limit) => {
      const { send } = scriptedSend();
      const error = await rejection(makeStore(send).findByName(NAME, { limit }));
      expect(error).toMatchObject({ code: "options.invalid" });
      expect(send).not.toHaveBeenCalled();
    },
  );
});

describe("deleteCompletedBefore", () => {
  const BEFORE = new Date("2024-04-01T00:00:00.000Z");
  const victims = (count: number) =>
    Array.from({ length: count }, (_, i) => ({ sagaId: `s${i}`, correlationId: `c${i}` }));

  /** Scan answers: all `items` in segment 0, nothing in the other segments. */
  const scanAnswer = (command: StoreCommand, items: unknown[]) =>
    (command as ScanCommand).input.Segment === 0 ? { Items: items } : { Items: [] };

  it("deletes 120 sagas in transactions of at most 100 actions and returns 120", async () => {
    const { send, calls } = fakeSend((command) =>
      command instanceof ScanCommand ? scanAnswer(command, victims(120)) : {},
    );
    const count = await makeStore(send).deleteCompletedBefore(NAME, BEFORE);

    expect(count).toBe(120);
    const scans = calls.filter((c): c is ScanCommand => c instanceof ScanCommand);
    expect(scans.map((s) => s.input.Segment).sort()).toEqual([0, 1, 2, 3]);
    for (const scan of scans) {
      expect(scan.input).toMatchObject({
        TableName: "sagas",
        IndexName: "GSI2",
        TotalSegments: 4,
        ExpressionAttributeValues: { ":prefix": "OrderSaga#", ":before": BEFORE.toISOString() },
      });
    }
    const transactions = calls.filter(
      (c): c is TransactWriteCommand => c instanceof TransactWriteCommand,
    );
    expect(transactions.length).toBeGreaterThanOrEqual(2);
    for (const tx of transactions) {
      expect(tx.input.TransactItems!.length).toBeLessThanOrEqual(100);
    }
    const deletedSagas = transactions
      .flatMap((tx) => tx.input.TransactItems!)
      .map((action) => action.Delete!.Key!.SK as string)
      .filter((sk) => sk.startsWith("ID#"));
    expect(deletedSagas.sort()).toEqual(
      victims(120)
        .map((v) => `ID#${v.sagaId}`)
        .sort(),
    );
    expect(calls).toHaveLength(4 + transactions.length);
  });

  it("follows LastEvaluatedKey through the pages of a segment", async () => {
    const page2Key = { PK: "x", SK: "y", GSI2PK: "COMPLETED#2024-01-01", GSI2SK: "OrderSaga#s0" };
    const { send, calls } = fakeSend((command) => {
      if (!(command instanceof ScanCommand)) return {};
      if (command.input.Segment !== 0) return { Items: [] };
      return command.input.ExclusiveStartKey === undefined
        ? { Items: victims(2), LastEvaluatedKey: page2Key }
        : { Items: [{ sagaId: "s9", correlationId: "c9" }] };
    });
    expect(
      await makeStore(send, { cleanupConcurrency: 1 }).deleteCompletedBefore(NAME, BEFORE),
    ).toBe(3);
    const scans = calls.filter((c): c is ScanCommand => c instanceof ScanCommand);
    expect(scans.map((s) => s.input.ExclusiveStartKey)).toEqual([undefined, page2Key]);
    expect(scans.every((s) => s.input.TotalSegments === 1)).toBe(true);
  });

  it("retries without a saga that is no longer eligible (reopened or gone)", async () => {
    const three = victims(3);
    let transactions = 0;
    const { send, calls } = fakeSend((command) => {
      if (command instanceof ScanCommand) return scanAnswer(command, three);
      transactions += 1;
      // Actions: s0 saga, s0 guard, s1 saga, s1 guard, s2 saga, s2 guard.
      if (transactions === 1) {
        throw cancelled([
          { Code: "None" },
          { Code: "None" },
          { Code: "ConditionalCheckFailed" },
          { Code: "None" },
          { Code: "None" },
          { Code: "None" },
        ]);
      }
      return {};
    });
    expect(await makeStore(send).deleteCompletedBefore(NAME, BEFORE)).toBe(2);

    const txs = calls.filter((c): c is TransactWriteCommand => c instanceof TransactWriteCommand);
    expect(txs).toHaveLength(2);
    expect(txs[0]!.input).toEqual(cleanupDeleteInput(TABLE, NAME, three, BEFORE));
    expect(txs[1]!.input).toEqual(cleanupDeleteInput(TABLE, NAME, [three[0]!, three[2]!], BEFORE));
  });

  it("retries keeping a correlation item that now belongs to another saga", async () => {
    const two = victims(2);
    let transactions = 0;
    const { send, calls } = fakeSend((command) => {
      if (command instanceof ScanCommand) return scanAnswer(command, two);
      transactions += 1;
      if (transactions === 1) {
        throw cancelled([
          { Code: "None" },
          { Code: "ConditionalCheckFailed" },
          { Code: "None" },
          { Code: "None" },
        ]);
      }
      return {};
    });
    expect(await makeStore(send).deleteCompletedBefore(NAME, BEFORE)).toBe(2);
    const txs = calls.filter((c): c is TransactWriteCommand => c instanceof TransactWriteCommand);
    expect(txs[1]!.input).toEqual(
      cleanupDeleteInput(TABLE, NAME, [{ ...two[0]!, keepCorrelation: true }, two[1]!], BEFORE),
    );
    expect(txs[1]!.input.TransactItems).toHaveLength(3);
  });

  it("returns 0 and sends no transaction when nothing is found", async () => {
    const { send, calls } = fakeSend(() => ({ Items: [] }));
    expect(await makeStore(send).deleteCompletedBefore(NAME, BEFORE)).toBe(0);
    expect(calls.every((c) => c instanceof ScanCommand)).toBe(true);
  });

  it("refuses an invalid Date", async () => {
    const { send } = scriptedSend();
    const error = await rejection(makeStore(send).deleteCompletedBefore(NAME, new Date(NaN)));
    expect(error).toMatchObject({ name: "ConfigurationError", code: "options.invalid" });
    expect(send).not.toHaveBeenCalled();
  });
});

describe("configuration", () => {
  it.each<[string, Partial<DynamoDBSagaStoreDeps>]>([
    ["a missing table name", { tableName: undefined }],
    ["an invalid table name", { tableName: "a" }],
    ["an invalid index name", { correlationIndexName: "bad name" }],
    ["a send that is not a function", { send: undefined }],
    ["an unknown consistency", { consistency: "sometimes" as "strong" }],
  ])("refuses %s with ConfigurationError options.invalid", (_label, deps) => {
    const { send } = scriptedSend();
    expect(() =>
      createDynamoDBSagaStore({ send, tableName: "sagas", ...deps } as DynamoDBSagaStoreDeps),
    ).toThrow(expect.objectContaining({ name: "ConfigurationError", code: "options.invalid" }));
  });
});

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

  it("passes options through (eventual consistency, index name)", async () => {
    const client = new FakeClient(() => ({ Items: [] }));
    const store = new DynamoDBSagaStore({
      client,
      tableName: "sagas",
      consistency: "eventual",
      correlationIndexName: "ByCorrelation",
    });
    expect(await store.getByCorrelationId(NAME, CORRELATION_ID)).toBeNull();
    expect(client.calls[0]).toBeInstanceOf(QueryCommand);
    expect((client.calls[0] as QueryCommand).input.IndexName).toBe("ByCorrelation");
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
      return {};
    });
    const store = new DynamoDBSagaStore<OrderState>({ client, tableName: "sagas" });
    expect(await store.findByName(NAME)).toEqual({ items: [state] });
    expect(await store.deleteCompletedBefore(NAME, NOW)).toBe(1);
  });

  it("refuses bad input before sending", async () => {
    const client = new FakeClient(() => ({}));
    const store = new DynamoDBSagaStore({ client, tableName: "sagas" });
    const error = await rejection(store.getById("A#B", SAGA_ID));
    expect(error).toBeInstanceOf(InvalidKeyError);
    expect(client.calls).toHaveLength(0);
  });
});
