/** `findByName`: one page of a name's sagas, with an opaque cursor to the next. */
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { ConfigurationError } from "../../../src";
import { rejection } from "../../support/caught";
import { scriptedSend } from "../../support/fake-send";
import { makeState, makeStore, NAME, storedItem } from "../../support/unit-states";

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
