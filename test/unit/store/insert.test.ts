/**
 * `insert`: one transaction of the saga item and its correlation item; a lost start race, an
 * orphaned correlation item and a taken saga id.
 */
import { GetCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { ConcurrencyError, SagaAlreadyExistsError, TransientError } from "../../../src";
import { encodeState } from "../../../src/internals";
import { insertInput } from "../../../src/commands";
import { rejection } from "../../support/caught";
import { cancelled, scriptedSend } from "../../support/fake-send";
import {
  CORRELATION_ID,
  makeState,
  makeStore,
  NAME,
  SAGA_ID,
  storedItem,
  TABLE,
} from "../../support/unit-states";

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
