/** Bad names, ids, states and versions, and states over 400 KB, are refused before any request. */
import {
  InvalidKeyError,
  InvalidStateError,
  MAX_ITEM_BYTES,
  StateTooLargeError,
} from "../../../src";
import { encodeState, keys } from "../../../src/internals";
import { insertInput, writeIdSlots } from "../../../src/commands";
import { DEFAULT_LAYOUT } from "../../../src/layout";
import { itemSize } from "../../../src/size";
import { rejection } from "../../support/caught";
import { awsError, scriptedSend } from "../../support/fake-send";
import {
  CORRELATION_ID,
  CUTOFF,
  makeState,
  makeStore,
  NAME,
  SAGA_ID,
  storedItem,
  TABLE,
} from "../../support/unit-states";

const { KEY_LIMITS } = keys;

/** What an insert keeps free for the write ids its updates add (22-character ids). */
const WRITE_ID_RESERVE = itemSize(writeIdSlots(DEFAULT_LAYOUT, "w".repeat(22)));

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

  // The limit an insert checks is the item with the write ids its updates will add: a saga
  // it accepts can always be updated unchanged.
  it("insert of a state just under the limit, write ids included, is sent; one byte more is not", async () => {
    const { send } = scriptedSend({});
    const base = itemSize(storedItem(makeState({ blob: "" })));
    const room = MAX_ITEM_BYTES - base - WRITE_ID_RESERVE;
    const state = makeState({ blob: "x".repeat(room) });
    expect(itemSize(storedItem(state)) + WRITE_ID_RESERVE).toBe(MAX_ITEM_BYTES);
    await makeStore(send).insert(NAME, CORRELATION_ID, state);
    expect(send).toHaveBeenCalledTimes(1);
    await refused(
      (s) => s.insert(NAME, CORRELATION_ID, makeState({ blob: "x".repeat(room + 1) })),
      StateTooLargeError,
      "state.tooLarge",
    );
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
    const blob = "x".repeat(MAX_ITEM_BYTES - sizeOf("") - WRITE_ID_RESERVE);
    const { send, calls } = scriptedSend({}, {});
    const store = makeStore(send);
    await store.insert(NAME, CORRELATION_ID, makeState({ blob }));
    await store.update(NAME, makeState({ blob }, { version: 1 }), 0);
    expect(calls.map((c) => c.constructor.name)).toEqual(["TransactWriteCommand", "UpdateCommand"]);
  });
});
