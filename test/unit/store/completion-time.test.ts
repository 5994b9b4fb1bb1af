/** A completing write records the state's `metadata.updatedAt`, not the wall clock. */
import type { TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { scriptedSend } from "../../support/fake-send";
import {
  completedState,
  CORRELATION_ID,
  makeStore,
  NAME,
  type OrderState,
} from "../../support/unit-states";

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
