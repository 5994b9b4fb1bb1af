/**
 * `getByCorrelationId`: the correlation item, then the saga; eventual reads confirm a miss
 * through the consistent path before answering "no saga".
 */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { scriptedSend } from "../../support/fake-send";
import {
  CORRELATION_ID,
  makeState,
  makeStore,
  NAME,
  SAGA_ID,
  storedItem,
} from "../../support/unit-states";

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
    // Then, once per process and per name, the layout marker and the 0.2.x probe
    // (legacy-gate.test.ts).
    const { send, calls } = scriptedSend({}, {}, { Items: [] });
    const store = makeStore(send);
    expect(await store.getByCorrelationId(NAME, CORRELATION_ID)).toBeNull();
    expect(calls.map((c) => c.constructor.name)).toEqual([
      "GetCommand",
      "GetCommand",
      "QueryCommand",
    ]);
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
    const { send, calls } = scriptedSend({}, {}, {}, { Items: [] });
    const store = makeStore(send, { consistency: "eventual" });
    expect(await store.getByCorrelationId(NAME, CORRELATION_ID)).toBeNull();
    expect(calls.map((c) => c.constructor.name)).toEqual([
      "GetCommand",
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
