/** `findAllByName`: every saga of a name, page after page, lazily. */
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { rejection } from "../../support/caught";
import { scriptedSend } from "../../support/fake-send";
import {
  makeState,
  makeStore,
  NAME,
  SAGA_ID,
  storedItem,
  type OrderState,
} from "../../support/unit-states";

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
