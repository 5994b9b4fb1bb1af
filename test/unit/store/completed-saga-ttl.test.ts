/** The `completedSagaTtlSeconds` option: its checks, and the `expiresAt` inserts and updates write. */
import type { TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { encodeState } from "../../../src/internals";
import { insertInput, updateInput } from "../../../src/commands";
import { cancelled, scriptedSend } from "../../support/fake-send";
import {
  COMPLETED_AT,
  COMPLETED_AT_SECONDS,
  completedState,
  CORRELATION_ID,
  makeState,
  makeStore,
  NAME,
  TABLE,
} from "../../support/unit-states";

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
