/** `getById`: one read of the saga item, strong unless the store reads eventually, decoded. */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { InvalidItemError } from "../../../src";
import { rejection } from "../../support/caught";
import { scriptedSend } from "../../support/fake-send";
import { makeState, makeStore, NAME, SAGA_ID, storedItem } from "../../support/unit-states";

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
    const { send, calls } = scriptedSend({}, {}, { Items: [] });
    expect(await makeStore(send).getById(NAME, "missing")).toBeNull();
    // The saga, then the layout marker and the 0.2.x probe (once per process).
    expect(calls.map((c) => c.constructor.name)).toEqual([
      "GetCommand",
      "GetCommand",
      "QueryCommand",
    ]);
  });

  it("throws InvalidItemError for an item it cannot decode", async () => {
    const { send } = scriptedSend({ Item: { ...storedItem(makeState()), state: "{" } });
    const error = await rejection(makeStore(send).getById(NAME, SAGA_ID));
    expect(error).toBeInstanceOf(InvalidItemError);
    expect(error.code).toBe("item.invalid");
  });
});
