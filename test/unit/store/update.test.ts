/**
 * `update`: one write conditional on the expected version; a version conflict, the store's own
 * retried write, and DynamoDB's refusals.
 */
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { ConcurrencyError, StateTooLargeError, TransientError } from "../../../src";
import { encodeState } from "../../../src/internals";
import { getWriteIdsInput, updateInput } from "../../../src/commands";
import { rejection } from "../../support/caught";
import { awsError, fakeSend, scriptedSend } from "../../support/fake-send";
import { makeState, makeStore, NAME, SAGA_ID, TABLE } from "../../support/unit-states";

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
    // Another update landed before the retry: its writeId is stored, ours is the one before.
    [
      "another update stored after it",
      (id: string) => ({ version: { N: "7" }, writeId: { S: "later" }, prevWriteId: { S: id } }),
    ],
    // Three did: ours is in the last slot.
    [
      "three updates stored after it",
      (id: string) => ({
        version: { N: "9" },
        writeId: { S: "c" },
        prevWriteId: { S: "b" },
        prevWriteId2: { S: "a" },
        prevWriteId3: { S: id },
      }),
    ],
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
        Item: { version: { N: "6" }, writeId: { S: "someone-else" }, prevWriteId: { S: "x" } },
      }),
    );
    const error = await rejection(makeStore(send).update(NAME, makeState({}, { version: 6 }), 5));
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({ expectedVersion: 5, actualVersion: 6 });
  });

  it("an update shifts the write ids down one slot, reading each from the item before it", async () => {
    const { send, calls } = scriptedSend({});
    await makeStore(send).update(NAME, makeState({}, { version: 1 }), 0);
    const { UpdateExpression: expression } = (calls[0] as UpdateCommand).input;
    expect(expression).toContain("#writeId = :writeId");
    expect(expression).toContain("#prevWriteId = if_not_exists(#writeId, :noWriteId)");
    expect(expression).toContain("#prevWriteId2 = if_not_exists(#prevWriteId, :noWriteId)");
    expect(expression).toContain("#prevWriteId3 = if_not_exists(#prevWriteId2, :noWriteId)");
  });

  // The first attempt was applied, its answer lost, and the SDK's retries were throttled until it
  // gave up: saga-bus would retry the message and run its handler on a state that holds its
  // effect already. One strong read of the write ids tells.
  describe("after a retryable failure (the SDK gave up)", () => {
    const throttled = () =>
      awsError("ThrottlingException", { $fault: "client", $retryable: { throttling: true } });
    const run = (readAnswer: (writeId: string) => unknown) => {
      let writeId = "";
      const { send, calls } = fakeSend((command) => {
        if (command instanceof UpdateCommand) {
          writeId = command.input.ExpressionAttributeValues![":writeId"] as string;
          throw throttled();
        }
        const answer = readAnswer(writeId);
        if (answer instanceof Error) throw answer;
        return answer;
      });
      const outcome = makeStore(send).update(NAME, makeState({}, { version: 6 }), 5);
      return { outcome, calls };
    };

    it.each([
      ["the newest slot", (id: string) => ({ version: 6, writeId: id })],
      ["an older slot", (id: string) => ({ version: 8, writeId: "c", prevWriteId2: id })],
    ])("an update found applied (its id in %s) is a success", async (_label, item) => {
      const { outcome, calls } = run((id) => ({ Item: item(id) }));
      await expect(outcome).resolves.toBeUndefined();
      expect(calls).toHaveLength(2);
      expect(calls[1]).toBeInstanceOf(GetCommand);
      expect(calls[1]!.input).toEqual(getWriteIdsInput(TABLE, NAME, SAGA_ID));
      expect(calls[1]!.input).toMatchObject({
        ConsistentRead: true,
        ProjectionExpression: "#version, #writeId, #prevWriteId, #prevWriteId2, #prevWriteId3",
      });
    });

    it.each([
      ["another update's ids", () => ({ Item: { version: 5, writeId: "other" } })],
      ["no saga", () => ({})],
      ["a failed read", () => throttled()],
    ])("with %s, the TransientError stands", async (_label, answer) => {
      const { outcome, calls } = run(answer);
      const error = await rejection(outcome);
      expect(error).toBeInstanceOf(TransientError);
      expect(error.cause).toMatchObject({ name: "ThrottlingException" });
      expect(calls).toHaveLength(2);
    });

    it("a failure that is not retryable is not checked", async () => {
      const { send, calls } = scriptedSend(awsError("ValidationException"));
      await rejection(makeStore(send).update(NAME, makeState({}, { version: 6 }), 5));
      expect(calls).toHaveLength(1);
    });
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

  // Credentials that expired or came too slowly from the metadata endpoint: the SDK fetches them
  // again, so a retry may pass; dead-lettering every message in flight would not.
  it.each(["ExpiredTokenException", "CredentialsProviderError", "ProviderError"])(
    "%s becomes a TransientError, its message clipped",
    async (name) => {
      const { send } = scriptedSend(awsError(name, { message: `${name}: ${"x".repeat(5000)}` }));
      const error = await rejection(makeStore(send).update(NAME, makeState({}, { version: 1 }), 0));
      expect(error).toBeInstanceOf(TransientError);
      expect(error.cause).toMatchObject({ name });
      expect(error.message.length).toBeLessThan(400);
    },
  );

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

  // Deleted since it was loaded (completed by a concurrent message, then deleted): saga-bus
  // must retry the message, which then finds no saga, not dead-letter it.
  it("throws a ConcurrencyError marked notFound when the failure carries no item", async () => {
    const { send } = scriptedSend(awsError("ConditionalCheckFailedException"));
    const error = await rejection(makeStore(send).update(NAME, makeState({}, { version: 1 }), 0));
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({
      sagaId: SAGA_ID,
      sagaName: NAME,
      expectedVersion: 0,
      actualVersion: undefined,
      notFound: true,
    });
    expect(send).toHaveBeenCalledTimes(1);
  });
});
