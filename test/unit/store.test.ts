import {
  BatchExecuteStatementCommand,
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
  MAX_ATTEMPTS,
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
import type { Timing } from "../../src/timing";
import {
  cleanupScanInput,
  deleteCompletedSagasInput,
  deleteCorrelationsInput,
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
/** A cleanup cutoff. */
const CUTOFF = new Date("2024-05-02T08:00:00.000Z");
/** `metadata.updatedAt` of the completing states: their completion time. */
const COMPLETED_AT = new Date("2024-05-02T08:00:00.000Z");
/** COMPLETED_AT in epoch seconds. */
const COMPLETED_AT_SECONDS = Date.UTC(2024, 4, 2, 8, 0, 0) / 1000;
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

/** A completed state as saga-bus writes it: `updatedAt` is the time of the completing write. */
const completedState = (
  meta: Partial<SagaStateMetadata> = {},
  completedAt: Date = COMPLETED_AT,
): OrderState => makeState({}, { isCompleted: true, updatedAt: completedAt, ...meta });

/** The stored saga item of a state, as `insert` writes it (what a Get would answer). */
const storedItem = (state: OrderState, correlationId = CORRELATION_ID): Record<string, unknown> =>
  insertInput(TABLE, NAME, correlationId, encodeState(state, {}, undefined)).TransactItems![0]!.Put!
    .Item as Record<string, unknown>;

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
) => createDynamoDBSagaStore<OrderState>({ send, tableName: "sagas", ...deps });

/** A `Timing` that records the delays asked for and does not wait; `random` is fixed. */
const noWaiting = (random = 0) => {
  const delays: number[] = [];
  const timing: Timing = {
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => random,
    now: () => 0,
  };
  return { timing, delays };
};

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

  it("returns null when there is no item (and no 0.2.x saga of the name)", async () => {
    const { send, calls } = scriptedSend({}, { Items: [] });
    expect(await makeStore(send).getById(NAME, "missing")).toBeNull();
    expect(calls.map((c) => c.constructor.name)).toEqual(["GetCommand", "QueryCommand"]);
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
    // The second request is the once-per-name probe for 0.2.x sagas (legacy-gate.test.ts).
    const { send, calls } = scriptedSend({}, { Items: [] });
    const store = makeStore(send);
    expect(await store.getByCorrelationId(NAME, CORRELATION_ID)).toBeNull();
    expect(calls.map((c) => c.constructor.name)).toEqual(["GetCommand", "QueryCommand"]);
  });

  it("eventual: reads the correlation item, then the saga, both eventually (half the RCU)", async () => {
    const state = makeState();
    const { send, calls } = scriptedSend(
      { Item: { sagaId: SAGA_ID } },
      { Item: storedItem(state) },
    );
    const got = await makeStore(send, { consistency: "eventual" }).getByCorrelationId(
      NAME,
      CORRELATION_ID,
    );
    expect(got).toEqual(state);
    expect(calls.map((c) => c.constructor.name)).toEqual(["GetCommand", "GetCommand"]);
    expect(calls[0]!.input).toEqual({
      TableName: "sagas",
      Key: { PK: "SAGA#OrderSaga", SK: "CORR#order-42" },
      ConsistentRead: false,
      ProjectionExpression: "sagaId",
    });
    expect((calls[1] as GetCommand).input.ConsistentRead).toBe(false);
  });

  it("eventual: a miss is confirmed by the consistent path before null", async () => {
    const { send, calls } = scriptedSend({}, {}, { Items: [] });
    const store = makeStore(send, { consistency: "eventual" });
    expect(await store.getByCorrelationId(NAME, CORRELATION_ID)).toBeNull();
    expect(calls.map((c) => c.constructor.name)).toEqual([
      "GetCommand",
      "GetCommand",
      "QueryCommand",
    ]);
    expect((calls[0] as GetCommand).input.ConsistentRead).toBe(false);
    expect((calls[1] as GetCommand).input.ConsistentRead).toBe(true);
  });

  // Eventually consistent reads lag writes: saga-bus drops a non-start message when no saga
  // is found, so a lagging read must not answer "none".
  it("eventual: a saga the eventual reads do not show yet is found through the consistent path", async () => {
    const state = makeState();
    const { send, calls } = scriptedSend(
      {},
      { Item: { sagaId: SAGA_ID } },
      { Item: storedItem(state) },
    );
    const store = makeStore(send, { consistency: "eventual" });
    expect(await store.getByCorrelationId(NAME, CORRELATION_ID)).toEqual(state);
    expect(calls.map((c) => (c as GetCommand).input.ConsistentRead)).toEqual([false, true, true]);
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
      insertInput(TABLE, NAME, CORRELATION_ID, encodeState(state, {}, undefined)),
    );
    const items = (calls[0] as TransactWriteCommand).input.TransactItems!;
    expect(items.map((action) => action.Put?.Item?.SK)).toEqual(["ID#saga-1", "CORR#order-42"]);
  });

  /** The cancellation of an insert whose correlation guard found `holder`'s item. */
  const heldBy = (holder: string) =>
    cancelled([
      { Code: "None" },
      {
        Code: "ConditionalCheckFailed",
        Item: { PK: { S: "SAGA#OrderSaga" }, sagaId: { S: holder } },
      },
    ]);

  it("on a lost start race reads the holder saga strongly, and throws ConcurrencyError naming it while it exists", async () => {
    const holder = makeState({}, { sagaId: "other" });
    const { send, calls } = scriptedSend(heldBy("other"), { Item: storedItem(holder) });
    const error = await rejection(makeStore(send).insert(NAME, CORRELATION_ID, makeState()));

    expect(error.name).toBe("ConcurrencyError");
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({
      sagaId: SAGA_ID,
      expectedVersion: 0,
      correlationId: CORRELATION_ID,
      existingSagaId: "other",
    });
    expect(calls).toHaveLength(2);
    expect(calls[1]).toBeInstanceOf(GetCommand);
    // An existence check: nothing of the holder is decoded.
    expect(calls[1]!.input).toEqual({
      TableName: "sagas",
      Key: { PK: "SAGA#OrderSaga", SK: "ID#other" },
      ConsistentRead: true,
      ProjectionExpression: "correlationId",
    });
  });

  it("reads the holder strongly even when the store reads eventually", async () => {
    const { send, calls } = scriptedSend(heldBy("other"), {
      Item: storedItem(makeState({}, { sagaId: "other" })),
    });
    const store = makeStore(send, { consistency: "eventual" });
    await expect(store.insert(NAME, CORRELATION_ID, makeState())).rejects.toMatchObject({
      name: "ConcurrencyError",
    });
    expect((calls[1] as GetCommand).input.ConsistentRead).toBe(true);
  });

  it("takes over the correlation item of a saga that no longer exists (orphan): one retry with orphanedBy", async () => {
    const state = makeState();
    const { send, calls } = scriptedSend(heldBy("gone"), {}, {});
    await expect(makeStore(send).insert(NAME, CORRELATION_ID, state)).resolves.toBeUndefined();

    expect(calls.map((c) => c.constructor.name)).toEqual([
      "TransactWriteCommand",
      "GetCommand",
      "TransactWriteCommand",
    ]);
    const encoded = encodeState(state, {}, undefined);
    expect(calls[0]!.input).toEqual(insertInput(TABLE, NAME, CORRELATION_ID, encoded));
    expect(calls[2]!.input).toEqual(
      insertInput(TABLE, NAME, CORRELATION_ID, encoded, { orphanedBy: "gone" }),
    );
    const takeover = (calls[2] as TransactWriteCommand).input.TransactItems!;
    expect(takeover[1]!.Put!.ExpressionAttributeValues).toEqual({ ":orphanedBy": "gone" });
    expect(takeover[2]!.ConditionCheck!.Key).toEqual({ PK: "SAGA#OrderSaga", SK: "ID#gone" });
  });

  it("throws ConcurrencyError naming the new holder when another insert took the orphan over first (no second takeover)", async () => {
    const { send, calls } = scriptedSend(heldBy("gone"), {}, heldBy("winner"));
    const error = await rejection(makeStore(send).insert(NAME, CORRELATION_ID, makeState()));
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({ name: "ConcurrencyError", existingSagaId: "winner" });
    expect(calls).toHaveLength(3);
  });

  it("throws ConcurrencyError when the takeover's check finds the orphaned saga back", async () => {
    const { send, calls } = scriptedSend(
      heldBy("gone"),
      {},
      cancelled([{ Code: "None" }, { Code: "None" }, { Code: "ConditionalCheckFailed" }]),
    );
    const error = await rejection(makeStore(send).insert(NAME, CORRELATION_ID, makeState()));
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({ existingSagaId: "gone", sagaId: SAGA_ID });
    expect(calls).toHaveLength(3);
  });

  it("turns a conflicting transaction during the takeover into a TransientError", async () => {
    const original = cancelled([
      { Code: "None" },
      { Code: "TransactionConflict" },
      { Code: "None" },
    ]);
    const { send } = scriptedSend(heldBy("gone"), {}, original);
    const error = await rejection(makeStore(send).insert(NAME, CORRELATION_ID, makeState()));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });

  it("throws ConcurrencyError without a read when the failure does not name the holder", async () => {
    const { send, calls } = scriptedSend(
      cancelled([{ Code: "None" }, { Code: "ConditionalCheckFailed" }]),
    );
    const error = await rejection(makeStore(send).insert(NAME, CORRELATION_ID, makeState()));
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error.existingSagaId).toBeUndefined();
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
    const writeId = (calls[0] as UpdateCommand).input.ExpressionAttributeValues![":writeId"];
    expect(writeId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(calls[0]!.input).toEqual(
      updateInput(TABLE, NAME, encodeState(state, {}, undefined), 0, { writeId }),
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

  // The SDK retries a request whose answer was lost (a reset connection, a timeout). If the
  // first attempt was applied, the retry's condition fails against the store's own write.
  it.each([
    ["raw attribute values", (id: string) => ({ version: { N: "6" }, writeId: { S: id } })],
    ["plain values", (id: string) => ({ version: 6, writeId: id })],
  ])(
    "a failed condition on its own write (a retried request, %s) is a success",
    async (_label, item) => {
      const { send, calls } = fakeSend((command) => {
        const input = (command as UpdateCommand).input;
        throw awsError("ConditionalCheckFailedException", {
          Item: item(input.ExpressionAttributeValues![":writeId"] as string),
        });
      });
      await expect(
        makeStore(send).update(NAME, makeState({}, { version: 6 }), 5),
      ).resolves.toBeUndefined();
      expect(calls).toHaveLength(1);
    },
  );

  it("a failed condition on another update's write is still a ConcurrencyError", async () => {
    const { send } = scriptedSend(
      awsError("ConditionalCheckFailedException", {
        Item: { version: { N: "6" }, writeId: { S: "someone-else" } },
      }),
    );
    const error = await rejection(makeStore(send).update(NAME, makeState({}, { version: 6 }), 5));
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({ expectedVersion: 5, actualVersion: 6 });
  });

  it("each update writes its own write id", async () => {
    const { send, calls } = scriptedSend({}, {});
    const store = makeStore(send);
    await store.update(NAME, makeState({}, { version: 1 }), 0);
    await store.update(NAME, makeState({}, { version: 2 }), 1);
    const ids = calls.map((c) => (c as UpdateCommand).input.ExpressionAttributeValues![":writeId"]);
    expect(ids[0]).not.toEqual(ids[1]);
  });

  // The item is inside a concurrent transaction (a delete): retrying gets through.
  it("TransactionConflictException becomes a TransientError", async () => {
    const { send } = scriptedSend(awsError("TransactionConflictException"));
    const error = await rejection(makeStore(send).update(NAME, makeState({}, { version: 1 }), 0));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toMatchObject({ name: "TransactionConflictException" });
  });

  it("DynamoDB's refusal of an oversized item becomes StateTooLargeError", async () => {
    const { send } = scriptedSend(
      awsError("ValidationException", {
        message: "Item size to update has exceeded the maximum allowed size",
      }),
    );
    const error = await rejection(makeStore(send).update(NAME, makeState({}, { version: 1 }), 0));
    expect(error).toBeInstanceOf(StateTooLargeError);
    expect(error).toMatchObject({ code: "state.tooLarge", sagaName: NAME, sagaId: SAGA_ID });
    expect(error.cause).toMatchObject({ name: "ValidationException" });
  });

  it("throws SagaNotFoundError when the failure carries no item", async () => {
    const { send } = scriptedSend(awsError("ConditionalCheckFailedException"));
    const error = await rejection(makeStore(send).update(NAME, makeState({}, { version: 1 }), 0));
    expect(error).toBeInstanceOf(SagaNotFoundError);
    expect(error).toMatchObject({ code: "saga.notFound", sagaName: NAME, sagaId: SAGA_ID });
    expect(send).toHaveBeenCalledTimes(1);
  });
});

describe("completedSagaTtlSeconds", () => {
  const TTL = 7 * 24 * 3600;

  it.each<[string, unknown]>([
    ["0", 0],
    ["a negative number", -60],
    ["a fraction", 1.5],
    ["NaN", NaN],
    ["Infinity", Infinity],
    ["a string", "3600"],
  ])("refuses %s with ConfigurationError options.invalid", (_label, ttl) => {
    const { send } = scriptedSend();
    expect(() => makeStore(send, { completedSagaTtlSeconds: ttl as number })).toThrow(
      expect.objectContaining({
        name: "ConfigurationError",
        code: "options.invalid",
        message: expect.stringContaining(
          "completedSagaTtlSeconds must be a whole number of seconds from 1 to 3153600000",
        ),
      }),
    );
  });

  // The expiry (epoch seconds) must stay an exact number: the document client refuses
  // numbers past Number.MAX_SAFE_INTEGER at every completing write.
  it("refuses more than 100 years before any request", () => {
    const { send } = scriptedSend();
    for (const ttl of [Number.MAX_SAFE_INTEGER, 3_153_600_001]) {
      expect(() => makeStore(send, { completedSagaTtlSeconds: ttl })).toThrow(
        expect.objectContaining({ code: "options.invalid" }),
      );
    }
    expect(() => makeStore(send, { completedSagaTtlSeconds: 3_153_600_000 })).not.toThrow();
  });

  it("accepts a positive integer", () => {
    const { send } = scriptedSend();
    expect(() => makeStore(send, { completedSagaTtlSeconds: 1 })).not.toThrow();
  });

  it("insert of a completed saga writes expiresAt = completion epoch seconds + TTL", async () => {
    const { send, calls } = scriptedSend({});
    const state = completedState();
    await makeStore(send, { completedSagaTtlSeconds: TTL }).insert(NAME, CORRELATION_ID, state);
    const item = (calls[0] as TransactWriteCommand).input.TransactItems![0]!.Put!.Item!;
    expect(item.expiresAt).toBe(COMPLETED_AT_SECONDS + TTL);
    expect(item.completedAt).toBe(COMPLETED_AT.toISOString());
    expect(calls[0]!.input).toEqual(
      insertInput(TABLE, NAME, CORRELATION_ID, encodeState(state, {}, undefined), {
        ttlSeconds: TTL,
      }),
    );
  });

  it("insert of an active saga writes no expiresAt", async () => {
    const { send, calls } = scriptedSend({});
    await makeStore(send, { completedSagaTtlSeconds: TTL }).insert(
      NAME,
      CORRELATION_ID,
      makeState(),
    );
    const item = (calls[0] as TransactWriteCommand).input.TransactItems![0]!.Put!.Item!;
    expect(item).not.toHaveProperty("expiresAt");
  });

  it("the orphan takeover keeps the TTL", async () => {
    const { send, calls } = scriptedSend(
      cancelled([
        { Code: "None" },
        { Code: "ConditionalCheckFailed", Item: { sagaId: { S: "gone" } } },
      ]),
      {},
      {},
    );
    await makeStore(send, { completedSagaTtlSeconds: TTL }).insert(
      NAME,
      CORRELATION_ID,
      completedState(),
    );
    const item = (calls[2] as TransactWriteCommand).input.TransactItems![0]!.Put!.Item!;
    expect(item.expiresAt).toBe(COMPLETED_AT_SECONDS + TTL);
  });

  it("update completing a saga sets expiresAt only if absent; reopening removes it", async () => {
    const { send, calls } = scriptedSend({}, {});
    const store = makeStore(send, { completedSagaTtlSeconds: TTL });
    const done = completedState({ version: 1 });
    await store.update(NAME, done, 0);
    const completing = (calls[0] as UpdateCommand).input;
    expect(completing.UpdateExpression).toContain(
      "#expiresAt = if_not_exists(#expiresAt, :expiresAt)",
    );
    expect(completing.ExpressionAttributeValues![":expiresAt"]).toBe(COMPLETED_AT_SECONDS + TTL);
    expect(completing).toEqual(
      updateInput(TABLE, NAME, encodeState(done, {}, undefined), 0, {
        ttlSeconds: TTL,
        writeId: completing.ExpressionAttributeValues![":writeId"] as string,
      }),
    );

    await store.update(NAME, makeState({}, { version: 2, isCompleted: false }), 1);
    const reopening = (calls[1] as UpdateCommand).input;
    expect(reopening.UpdateExpression).toMatch(/ REMOVE .*#expiresAt/);
    expect(reopening.ExpressionAttributeValues).not.toHaveProperty(":expiresAt");
  });

  it("without the option no expiresAt is written", async () => {
    const { send, calls } = scriptedSend({}, {});
    const store = makeStore(send);
    await store.insert(NAME, CORRELATION_ID, makeState({}, { isCompleted: true }));
    await store.update(NAME, makeState({}, { version: 1, isCompleted: true }), 0);
    const item = (calls[0] as TransactWriteCommand).input.TransactItems![0]!.Put!.Item!;
    expect(item).not.toHaveProperty("expiresAt");
    expect((calls[1] as UpdateCommand).input.ExpressionAttributeValues).not.toHaveProperty(
      ":expiresAt",
    );
  });

  it("the expiry follows the completing state's updatedAt, in whole seconds", async () => {
    const { send, calls } = scriptedSend({});
    const at = new Date("2030-01-01T00:00:00.750Z");
    const store = makeStore(send, { completedSagaTtlSeconds: 10 });
    await store.update(NAME, completedState({ version: 1 }, at), 0);
    expect((calls[0] as UpdateCommand).input.ExpressionAttributeValues![":expiresAt"]).toBe(
      Date.UTC(2030, 0, 1) / 1000 + 10,
    );
  });
});

describe("completion time", () => {
  afterEach(() => jest.useRealTimers());

  /** What a completing insert and a completing update of `state` write, at `wallClock`. */
  const completionWritten = async (state: OrderState, wallClock: Date) => {
    // Only Date is faked: the store's promises and timers run as usual.
    jest.useFakeTimers({
      now: wallClock,
      doNotFake: [
        "hrtime",
        "nextTick",
        "performance",
        "queueMicrotask",
        "setImmediate",
        "clearImmediate",
        "setInterval",
        "clearInterval",
        "setTimeout",
        "clearTimeout",
      ],
    });
    expect(new Date()).toEqual(wallClock);
    const { send, calls } = scriptedSend({}, {});
    const store = makeStore(send, { completedSagaTtlSeconds: 60 });
    await store.insert(NAME, CORRELATION_ID, state);
    await store.update(NAME, { ...state, metadata: { ...state.metadata, version: 1 } }, 0);
    jest.useRealTimers();
    const item = (calls[0] as TransactWriteCommand).input.TransactItems![0]!.Put!.Item!;
    const values = (calls[1] as UpdateCommand).input.ExpressionAttributeValues!;
    return {
      insert: { completedAt: item.completedAt, GSI2PK: item.GSI2PK, expiresAt: item.expiresAt },
      update: {
        completedAt: values[":completedAt"],
        GSI2PK: values[":GSI2PK"],
        expiresAt: values[":expiresAt"],
      },
    };
  };

  it("is the completing state's metadata.updatedAt for insert and update, whatever the wall clock", async () => {
    // The last millisecond of a UTC day and the first of the next.
    const lastOfDay = completedState({}, new Date("2024-05-02T23:59:59.999Z"));
    const firstOfNext = completedState({}, new Date("2024-05-03T00:00:00.000Z"));
    const expected = (completedAt: string, day: string, epochSeconds: number) => {
      const attributes = { completedAt, GSI2PK: `COMPLETED#${day}`, expiresAt: epochSeconds + 60 };
      return { insert: attributes, update: attributes };
    };
    for (const wallClock of [
      new Date("2019-01-01T00:00:00.000Z"),
      new Date("2024-05-02T12:00:00.000Z"),
      new Date("2031-07-15T23:59:59.000Z"),
    ]) {
      expect(await completionWritten(lastOfDay, wallClock)).toEqual(
        expected("2024-05-02T23:59:59.999Z", "2024-05-02", Date.UTC(2024, 4, 2, 23, 59, 59) / 1000),
      );
      expect(await completionWritten(firstOfNext, wallClock)).toEqual(
        expected("2024-05-03T00:00:00.000Z", "2024-05-03", Date.UTC(2024, 4, 3) / 1000),
      );
    }
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
    ["deleteCompletedBefore", (s) => s.deleteCompletedBefore("A#B", CUTOFF)],
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

    // The update does not know the correlation attributes its item keeps: DynamoDB decides,
    // atomically, and its refusal becomes the same typed error.
    it("update sends it and maps DynamoDB's refusal", async () => {
      const { send, calls } = scriptedSend(
        awsError("ValidationException", {
          message: "Item size to update has exceeded the maximum allowed size",
        }),
      );
      const error = await rejection(
        makeStore(send).update(name, makeState({ blob }, { ...meta, version: 1 }), 0),
      );
      expect(error).toBeInstanceOf(StateTooLargeError);
      expect(calls).toHaveLength(1);
    });

    it("update refuses, before any request, a state too large even without them", async () => {
      const huge = "x".repeat(MAX_ITEM_BYTES);
      await refused(
        (s) => s.update(name, makeState({ huge }, { ...meta, version: 1 }), 0),
        StateTooLargeError,
        "state.tooLarge",
      );
    });
  });

  // An insert with a short correlation id leaves room that an update must not take away
  // by assuming the longest correlation id (saga-bus's start is insert, then update).
  it("update accepts the state its insert accepted", async () => {
    const sizeOf = (blob: string) =>
      itemSize(
        insertInput(TABLE, NAME, CORRELATION_ID, encodeState(makeState({ blob }), {}, undefined))
          .TransactItems![0]!.Put!.Item!,
      );
    const blob = "x".repeat(MAX_ITEM_BYTES - sizeOf("") - 10);
    const { send, calls } = scriptedSend({}, {});
    const store = makeStore(send);
    await store.insert(NAME, CORRELATION_ID, makeState({ blob }));
    await store.update(NAME, makeState({ blob }, { version: 1 }), 0);
    expect(calls.map((c) => c.constructor.name)).toEqual(["TransactWriteCommand", "UpdateCommand"]);
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

describe("findAllByName", () => {
  const pageKey = (sagaId: string) => ({ PK: "SAGA#OrderSaga", SK: `ID#${sagaId}` });

  it("iterates every saga of a name across 3 pages, following each page's cursor", async () => {
    const states = ["a", "b", "c", "d", "e"].map((id, n) => makeState({ n }, { sagaId: id }));
    const pages = [
      { Items: states.slice(0, 2).map((s) => storedItem(s)), LastEvaluatedKey: pageKey("b") },
      { Items: states.slice(2, 4).map((s) => storedItem(s)), LastEvaluatedKey: pageKey("d") },
      { Items: states.slice(4).map((s) => storedItem(s)) },
    ];
    const { send, calls } = scriptedSend(...pages);
    const seen: OrderState[] = [];
    for await (const state of makeStore(send).findAllByName(NAME, { limit: 2, completed: false })) {
      seen.push(state);
    }

    expect(seen).toEqual(states);
    expect(seen[0]!.metadata.createdAt).toBeInstanceOf(Date);
    expect(calls).toHaveLength(3);
    expect(calls.every((c) => c instanceof QueryCommand)).toBe(true);
    const inputs = (calls as QueryCommand[]).map((c) => c.input);
    expect(inputs.map((i) => i.ExclusiveStartKey)).toEqual([undefined, pageKey("b"), pageKey("d")]);
    for (const input of inputs) {
      expect(input).toMatchObject({
        TableName: "sagas",
        Limit: 2,
        FilterExpression: "isCompleted = :completed",
        ExpressionAttributeValues: { ":pk": "SAGA#OrderSaga", ":completed": false },
      });
    }
  });

  it("continues past a page the filter left empty", async () => {
    const state = makeState({}, { sagaId: "z" });
    const { send, calls } = scriptedSend(
      { Items: [], LastEvaluatedKey: pageKey("m") },
      { Items: [storedItem(state)] },
    );
    const seen: OrderState[] = [];
    for await (const s of makeStore(send).findAllByName(NAME, { completed: true })) seen.push(s);
    expect(seen).toEqual([state]);
    expect(calls).toHaveLength(2);
  });

  it("is lazy: stopping after the first saga reads only the first page", async () => {
    const { send, calls } = scriptedSend(
      { Items: [storedItem(makeState())], LastEvaluatedKey: pageKey("saga-1") },
      { Items: [] },
    );
    for await (const state of makeStore(send).findAllByName(NAME)) {
      expect(state.metadata.sagaId).toBe(SAGA_ID);
      break;
    }
    expect(calls).toHaveLength(1);
  });

  it("yields nothing for a name without sagas", async () => {
    const { send } = scriptedSend({ Items: [] });
    const seen: OrderState[] = [];
    for await (const s of makeStore(send).findAllByName(NAME)) seen.push(s);
    expect(seen).toEqual([]);
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("refuses a bad limit before any request", async () => {
    const { send } = scriptedSend();
    const error = await rejection(makeStore(send).findAllByName(NAME, { limit: 0 }).next());
    expect(error).toMatchObject({ name: "ConfigurationError", code: "options.invalid" });
    expect(send).not.toHaveBeenCalled();
  });
});

describe("deleteCompletedBefore", () => {
  const BEFORE = new Date("2024-04-01T00:00:00.000Z");
  const victims = (count: number, from = 0) =>
    Array.from({ length: count }, (_, i) => ({
      sagaId: `s${from + i}`,
      correlationId: `c${from + i}`,
    }));

  /** Scan answers: all `items` in segment 0, nothing in the other segments. */
  const scanAnswer = (command: ScanCommand, items: unknown[]) =>
    command.input.Segment === 0 ? { Items: items } : { Items: [] };

  /** The sort key (`ID#…` or `CORR#…`) each statement of a batch deletes. */
  const targets = (command: BatchExecuteStatementCommand): string[] =>
    command.input.Statements!.map((s) => s.Parameters![1] as string);

  /** A BatchExecuteStatement answer: `codeOf(sortKey)` fails a statement with that code. */
  const batchAnswer = (
    command: BatchExecuteStatementCommand,
    codeOf: (sortKey: string) => string | undefined = () => undefined,
  ) => ({
    Responses: targets(command).map((sk) => {
      const code = codeOf(sk);
      // A saga delete returns the item it deleted (RETURNING ALL OLD *).
      if (code === undefined)
        return { TableName: "sagas", ...(sk.startsWith("ID#") && { Item: { SK: sk } }) };
      return { TableName: "sagas", Error: { Code: code, Message: `${code} for ${sk}` } };
    }),
  });

  const batches = (calls: StoreCommand[]) =>
    calls.filter(
      (c): c is BatchExecuteStatementCommand => c instanceof BatchExecuteStatementCommand,
    );
  const sagaBatches = (calls: StoreCommand[]) =>
    batches(calls).filter((b) => targets(b).every((sk) => sk.startsWith("ID#")));
  const correlationBatches = (calls: StoreCommand[]) =>
    batches(calls).filter((b) => targets(b).every((sk) => sk.startsWith("CORR#")));

  /** A fake DynamoDB: segment 0 finds `found`; batch statements fail with `codeOf`. */
  const cleanupSend = (
    found: unknown[],
    codeOf?: (sortKey: string, attempt: number) => string | undefined,
  ) => {
    const attempts = new Map<string, number>();
    return fakeSend((command) => {
      if (command instanceof ScanCommand) return scanAnswer(command, found);
      if (command instanceof BatchExecuteStatementCommand) {
        return batchAnswer(command, (sk) => {
          const attempt = (attempts.get(sk) ?? 0) + 1;
          attempts.set(sk, attempt);
          return codeOf?.(sk, attempt);
        });
      }
      throw new Error(`unexpected ${command.constructor.name}`);
    });
  };

  it("scans GSI2 in 4 parallel segments, then deletes 60 sagas in batches of at most 25, and their correlation items", async () => {
    const found = victims(60);
    const { send, calls } = cleanupSend(found);
    const count = await makeStore(send).deleteCompletedBefore(NAME, BEFORE);

    expect(count).toBe(60);
    const scans = calls.filter((c): c is ScanCommand => c instanceof ScanCommand);
    expect(scans.map((s) => s.input.Segment).sort()).toEqual([0, 1, 2, 3]);
    for (const scan of scans) {
      expect(scan.input).toEqual(
        cleanupScanInput(TABLE, NAME, BEFORE, { index: scan.input.Segment!, total: 4 }, undefined),
      );
      expect(scan.input).toMatchObject({ TableName: "sagas", IndexName: "GSI2" });
    }

    const sagas = sagaBatches(calls);
    const correlations = correlationBatches(calls);
    expect(sagas.map((b) => b.input.Statements!.length)).toEqual([25, 25, 10]);
    expect(correlations.map((b) => b.input.Statements!.length).sort()).toEqual([10, 25, 25]);
    expect(sagas.map((b) => b.input)).toEqual([
      deleteCompletedSagasInput(TABLE, NAME, found.slice(0, 25), BEFORE),
      deleteCompletedSagasInput(TABLE, NAME, found.slice(25, 50), BEFORE),
      deleteCompletedSagasInput(TABLE, NAME, found.slice(50), BEFORE),
    ]);
    expect(
      correlations.flatMap((b) => b.input.Statements!.map((s) => s.Parameters)).sort(),
    ).toEqual(
      deleteCorrelationsInput(TABLE, NAME, found)
        .Statements!.map((s) => s.Parameters)
        .sort(),
    );
    // Nothing else: no transactions, no single deletes.
    expect(calls).toHaveLength(4 + 3 + 3);
  });

  it("deletes a batch's correlation items only after its sagas' deletes answered", async () => {
    const { send, calls } = cleanupSend(victims(3));
    await makeStore(send, {}).deleteCompletedBefore(NAME, BEFORE, { segments: 1 });
    expect(calls.map((c) => c.constructor.name)).toEqual([
      "ScanCommand",
      "BatchExecuteStatementCommand",
      "BatchExecuteStatementCommand",
    ]);
    expect(targets(calls[1] as BatchExecuteStatementCommand)).toEqual(["ID#s0", "ID#s1", "ID#s2"]);
    expect(targets(calls[2] as BatchExecuteStatementCommand)).toEqual([
      "CORR#c0",
      "CORR#c1",
      "CORR#c2",
    ]);
  });

  it("uses a custom cleanup index name and the segments option", async () => {
    const { send, calls } = cleanupSend([]);
    await makeStore(send, { cleanupIndexName: "ByCompletion" }).deleteCompletedBefore(
      NAME,
      BEFORE,
      { segments: 7 },
    );
    const scans = calls as ScanCommand[];
    expect(scans).toHaveLength(7);
    expect(scans.map((s) => s.input.Segment).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(scans.every((s) => s.input.TotalSegments === 7)).toBe(true);
    expect(scans.every((s) => s.input.IndexName === "ByCompletion")).toBe(true);
  });

  it("drops sagas whose delete failed its condition (reopened or gone): they do not count and keep their correlation items", async () => {
    const found = victims(5);
    const { send, calls } = cleanupSend(found, (sk) =>
      sk === "ID#s1" || sk === "ID#s3" ? "ConditionalCheckFailed" : undefined,
    );
    expect(await makeStore(send).deleteCompletedBefore(NAME, BEFORE)).toBe(3);

    const sagas = sagaBatches(calls);
    expect(sagas).toHaveLength(1); // a failed condition is not retried
    const correlations = correlationBatches(calls);
    expect(correlations).toHaveLength(1);
    expect(correlations[0]!.input).toEqual(
      deleteCorrelationsInput(TABLE, NAME, [found[0]!, found[2]!, found[4]!]),
    );
  });

  it("sends no correlation batch when no saga of the batch was deleted", async () => {
    const { send, calls } = cleanupSend(victims(2), () => "ConditionalCheckFailed");
    expect(await makeStore(send).deleteCompletedBefore(NAME, BEFORE)).toBe(0);
    expect(sagaBatches(calls)).toHaveLength(1);
    expect(correlationBatches(calls)).toHaveLength(0);
  });

  it("counts a saga whose correlation item now names another saga (taken over) and does not retry it", async () => {
    const { send, calls } = cleanupSend(victims(2), (sk) =>
      sk === "CORR#c0" ? "ConditionalCheckFailed" : undefined,
    );
    expect(await makeStore(send).deleteCompletedBefore(NAME, BEFORE)).toBe(2);
    expect(correlationBatches(calls)).toHaveLength(1);
  });

  it.each([
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
    "InternalServerError",
    "TransactionConflict",
  ])("retries only the statements that failed with %s", async (code) => {
    const found = victims(3);
    const { send, calls } = cleanupSend(found, (sk, attempt) =>
      sk === "ID#s1" && attempt === 1 ? code : undefined,
    );
    const store = makeStore(send, { timing: noWaiting().timing });
    expect(await store.deleteCompletedBefore(NAME, BEFORE, { segments: 1 })).toBe(3);

    const sagas = sagaBatches(calls);
    expect(sagas.map(targets)).toEqual([["ID#s0", "ID#s1", "ID#s2"], ["ID#s1"]]);
    const correlations = correlationBatches(calls);
    expect(correlations).toHaveLength(1);
    expect(targets(correlations[0]!).sort()).toEqual(["CORR#c0", "CORR#c1", "CORR#c2"]);
  });

  it("retries statements the answer left out (no response for them)", async () => {
    let first = true;
    const { send, calls } = fakeSend((command) => {
      if (command instanceof ScanCommand) return scanAnswer(command, victims(3));
      const answer = batchAnswer(command as BatchExecuteStatementCommand);
      if (first) {
        first = false;
        return { Responses: answer.Responses.slice(0, 1) };
      }
      return answer;
    });
    const store = makeStore(send, { timing: noWaiting().timing });
    expect(await store.deleteCompletedBefore(NAME, BEFORE, { segments: 1 })).toBe(3);
    expect(sagaBatches(calls).map(targets)).toEqual([
      ["ID#s0", "ID#s1", "ID#s2"],
      ["ID#s1", "ID#s2"],
    ]);
  });

  it("retries failed correlation deletes too", async () => {
    const { send, calls } = cleanupSend(victims(2), (sk, attempt) =>
      sk === "CORR#c1" && attempt === 1 ? "ThrottlingError" : undefined,
    );
    const store = makeStore(send, { timing: noWaiting().timing });
    expect(await store.deleteCompletedBefore(NAME, BEFORE, { segments: 1 })).toBe(2);
    expect(correlationBatches(calls).map(targets)).toEqual([["CORR#c0", "CORR#c1"], ["CORR#c1"]]);
  });

  it("throws a TransientError after exactly MAX_ATTEMPTS (8) attempts of a statement that is always throttled, with growing backoff", async () => {
    const { timing, delays } = noWaiting(0.5);
    const { send, calls } = cleanupSend(victims(2), (sk) =>
      sk === "ID#s1" ? "ThrottlingError" : undefined,
    );

    const pending = rejection(
      makeStore(send, { timing }).deleteCompletedBefore(NAME, BEFORE, { segments: 1 }),
    );
    const error = await pending;

    expect(MAX_ATTEMPTS).toBe(8);
    expect(error).toBeInstanceOf(TransientError);
    expect(error.name).toBe("TransientError");
    expect(error.message).toContain(`"${NAME}"`);
    expect(error.cause).toMatchObject({ name: "ThrottlingError" });
    const sagas = sagaBatches(calls);
    expect(sagas).toHaveLength(8);
    expect(sagas.slice(1).map(targets)).toEqual(Array(7).fill(["ID#s1"]));
    // Full jitter (random 0.5 here) of 25 ms × 2^attempt, capped at 2 s.
    expect(delays).toEqual([25, 50, 100, 200, 400, 800, 1000]);
  });

  it.each(["ValidationError", "AccessDenied", "ResourceNotFound"])(
    "throws a DynamoDBRequestError, without retrying, for a statement that failed with %s",
    async (code) => {
      const { send, calls } = cleanupSend(victims(2), (sk) => (sk === "ID#s1" ? code : undefined));
      const error = await rejection(
        makeStore(send).deleteCompletedBefore(NAME, BEFORE, { segments: 1 }),
      );
      expect(sagaBatches(calls)).toHaveLength(1);
      expect(error.message).toContain(code);
      expect(error).not.toBeInstanceOf(TransientError);
      expect(error).toBeInstanceOf(DynamoDBRequestError);
      expect(error).toMatchObject({ code: "request.failed", sagaName: NAME, sagaId: "s1" });
      expect(error.cause).toMatchObject({ name: code, message: `${code} for ID#s1` });
    },
  );

  it("a failure stops the other segments: no further pages or batches once it is thrown", async () => {
    const PAGES = 200;
    const { send, calls } = fakeSend(async (command) => {
      await new Promise((resolve) => setImmediate(resolve));
      if (command instanceof BatchExecuteStatementCommand) {
        return batchAnswer(command, (sk) => (sk === "ID#bad" ? "ValidationError" : undefined));
      }
      const scan = command as ScanCommand;
      if (scan.input.Segment === 0) return { Items: [{ sagaId: "bad", correlationId: "c" }] };
      // Segment 1: many pages of one saga each.
      const page = Number(scan.input.ExclusiveStartKey?.page ?? 0);
      return {
        Items: victims(1, 100 + page),
        ...(page + 1 < PAGES ? { LastEvaluatedKey: { page: page + 1 } } : {}),
      };
    });
    const error = await rejection(
      makeStore(send).deleteCompletedBefore(NAME, BEFORE, { segments: 2 }),
    );
    expect(error).toBeInstanceOf(DynamoDBRequestError);
    const segmentOneScans = () =>
      calls.filter((c) => c instanceof ScanCommand && c.input.Segment === 1).length;
    const sent = calls.length;
    expect(segmentOneScans()).toBeLessThan(10);
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(calls.length).toBe(sent);
  });

  it("turns a throttled scan into a TransientError", async () => {
    const original = awsError("ProvisionedThroughputExceededException");
    const { send } = fakeSend(() => {
      throw original;
    });
    const error = await rejection(makeStore(send).deleteCompletedBefore(NAME, BEFORE));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });

  it("follows LastEvaluatedKey through the pages of a segment", async () => {
    const page2Key = { PK: "x", SK: "y", GSI2PK: "COMPLETED#2024-01-01", GSI2SK: "OrderSaga#s0" };
    const { send, calls } = fakeSend((command) => {
      if (command instanceof BatchExecuteStatementCommand) return batchAnswer(command);
      const scan = command as ScanCommand;
      if (scan.input.Segment !== 0) return { Items: [] };
      return scan.input.ExclusiveStartKey === undefined
        ? { Items: victims(2), LastEvaluatedKey: page2Key }
        : { Items: victims(1, 9) };
    });
    expect(await makeStore(send).deleteCompletedBefore(NAME, BEFORE, { segments: 1 })).toBe(3);
    const scans = calls.filter((c): c is ScanCommand => c instanceof ScanCommand);
    expect(scans.map((s) => s.input.ExclusiveStartKey)).toEqual([undefined, page2Key]);
    expect(scans.every((s) => s.input.TotalSegments === 1)).toBe(true);
    expect(sagaBatches(calls).map(targets)).toEqual([["ID#s0", "ID#s1"], ["ID#s9"]]);
  });

  it("skips scanned items without a saga id or correlation id", async () => {
    const { send, calls } = cleanupSend([
      { sagaId: "s0", correlationId: "c0" },
      { sagaId: "s1" },
      { correlationId: "c2" },
      { sagaId: 3, correlationId: "c3" },
    ]);
    expect(await makeStore(send).deleteCompletedBefore(NAME, BEFORE)).toBe(1);
    expect(sagaBatches(calls).map(targets)).toEqual([["ID#s0"]]);
  });

  it("reports progress after every batch: growing deleted counts ending at the total", async () => {
    const found = victims(60);
    const { send } = cleanupSend(found, (sk) =>
      sk === "ID#s7" ? "ConditionalCheckFailed" : undefined,
    );
    const onProgress = jest.fn();
    const count = await makeStore(send).deleteCompletedBefore(NAME, BEFORE, {
      segments: 1,
      concurrency: 1,
      onProgress,
    });
    expect(count).toBe(59);
    expect(onProgress.mock.calls).toEqual([
      [{ deleted: 24, scanned: 60 }],
      [{ deleted: 49, scanned: 60 }],
      [{ deleted: 59, scanned: 60 }],
    ]);
  });

  it("reports progress across parallel segments, never decreasing, ending at the total", async () => {
    const { send } = fakeSend((command) => {
      if (command instanceof BatchExecuteStatementCommand) return batchAnswer(command);
      const scan = command as ScanCommand;
      return { Items: victims(30, scan.input.Segment! * 100) };
    });
    const progress: number[] = [];
    const count = await makeStore(send).deleteCompletedBefore(NAME, BEFORE, {
      onProgress: ({ deleted }) => progress.push(deleted),
    });
    expect(count).toBe(120);
    expect(progress).toHaveLength(8); // 4 segments × (25 + 5)
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(progress.at(-1)).toBe(120);
  });

  it.each([1, 3])("keeps at most %p requests in flight (concurrency)", async (concurrency) => {
    let inFlight = 0;
    let most = 0;
    const send = jest.fn(async (command: StoreCommand) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      if (command instanceof ScanCommand) {
        return { Items: victims(60, command.input.Segment! * 100) };
      }
      return batchAnswer(command as BatchExecuteStatementCommand);
    });
    const count = await makeStore(send).deleteCompletedBefore(NAME, BEFORE, { concurrency });
    expect(count).toBe(240);
    expect(most).toBe(concurrency);
  });

  it("returns 0 and sends no batch when nothing is found", async () => {
    const onProgress = jest.fn();
    const { send, calls } = cleanupSend([]);
    expect(await makeStore(send).deleteCompletedBefore(NAME, BEFORE, { onProgress })).toBe(0);
    expect(calls.every((c) => c instanceof ScanCommand)).toBe(true);
    expect(onProgress).not.toHaveBeenCalled();
  });

  it("refuses an invalid Date", async () => {
    const { send } = scriptedSend();
    const error = await rejection(makeStore(send).deleteCompletedBefore(NAME, new Date(NaN)));
    expect(error).toMatchObject({ name: "ConfigurationError", code: "options.invalid" });
    expect(send).not.toHaveBeenCalled();
  });

  it.each<[string, number | string]>([
    ["concurrency", 0],
    ["concurrency", 1001],
    ["concurrency", 1.5],
    ["concurrency", -4],
    ["concurrency", NaN],
    ["concurrency", "4"],
    ["segments", 0],
    ["segments", 1001],
    ["segments", 2.5],
    ["segments", Infinity],
    ["segments", "2"],
  ])(
    "refuses %s %p with ConfigurationError options.invalid, before any request",
    async (key, value) => {
      const { send } = scriptedSend();
      const error = await rejection(
        makeStore(send).deleteCompletedBefore(NAME, BEFORE, { [key]: value as number }),
      );
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error).toMatchObject({ code: "options.invalid" });
      expect(error.message).toContain(`${key} must be an integer from 1 to 1000`);
      expect(send).not.toHaveBeenCalled();
    },
  );

  it.each([1, 1000])("accepts %p as concurrency and as segments", async (value) => {
    const { send, calls } = cleanupSend([]);
    await makeStore(send).deleteCompletedBefore(NAME, BEFORE, {
      concurrency: value,
      segments: value,
    });
    expect(calls).toHaveLength(value);
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
