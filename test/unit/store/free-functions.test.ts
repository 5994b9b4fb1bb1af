/** The functional store's operations need no `this`. */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { fakeSend } from "../../support/fake-send";
import {
  CORRELATION_ID,
  makeState,
  makeStore,
  NAME,
  SAGA_ID,
  storedItem,
} from "../../support/unit-states";

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
