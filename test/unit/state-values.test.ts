/**
 * Values that DynamoDB, lib-dynamodb or JSON would refuse or drop are refused by the store
 * itself, as `InvalidStateError`, before any request.
 */
import { marshall } from "@aws-sdk/util-dynamodb";
import { InvalidItemError, InvalidStateError } from "../../src";
import { encodeState, decodeSagaItem } from "../../src/internals";
import { DynamoDBNumber } from "../../src/codecs";
import { insertInput } from "../../src/commands";
import { rejection, thrown } from "../support/caught";
import { answeringSend } from "../support/fake-send";
import { CORRELATION_ID, makeState, makeStore, NAME, SAGA_ID, TABLE } from "../support/unit-states";

// ---------------------------------------------------------------------------------------------
// Helpers

const INIT = { sagaName: NAME, sagaId: SAGA_ID };

/** Would lib-dynamodb marshal this number (as the store's commands do)? */
const libDynamoDBAccepts = (n: number): boolean => {
  try {
    marshall({ n });
    return true;
  } catch {
    return false;
  }
};

// ---------------------------------------------------------------------------------------------

describe("timeoutMs that DynamoDB or lib-dynamodb cannot store", () => {
  const refused: Array<[string, number]> = [
    ["1e20 (over lib-dynamodb's MAX_SAFE_INTEGER)", 1e20],
    ["-1e20", -1e20],
    ["MAX_SAFE_INTEGER + 2", Number.MAX_SAFE_INTEGER + 2],
    ["1e-200 (under DynamoDB's 1e-130)", 1e-200],
    ["-1e-131", -1e-131],
    ["Infinity", Infinity],
    ["NaN", NaN],
  ];

  it.each(refused)("%s is an InvalidStateError from encodeState", (_label, timeoutMs) => {
    const error = thrown(() => encodeState(makeState({}, { timeoutMs }), INIT, undefined));
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error.message).toContain("state.metadata.timeoutMs: expected DynamoDBNumber | null");
  });

  it.each(refused)("%s makes insert and update fail before any request", async (_l, timeoutMs) => {
    const { send, calls } = answeringSend({});
    const store = makeStore(send);
    const inserted = await rejection(
      store.insert(NAME, CORRELATION_ID, makeState({}, { timeoutMs })),
    );
    const updated = await rejection(
      store.update(NAME, makeState({}, { timeoutMs, version: 1 }), 0),
    );
    expect(inserted).toBeInstanceOf(InvalidStateError);
    expect(updated).toBeInstanceOf(InvalidStateError);
    expect(calls).toHaveLength(0);
  });

  it.each<[string, number | null]>([
    ["0", 0],
    ["1e-130", 1e-130],
    ["-1e-130", -1e-130],
    ["1.5", 1.5],
    ["a negative duration", -5000],
    ["MAX_SAFE_INTEGER", Number.MAX_SAFE_INTEGER],
    ["-MAX_SAFE_INTEGER", -Number.MAX_SAFE_INTEGER],
    ["null", null],
  ])("%s is written and read back", (_label, timeoutMs) => {
    const state = makeState({}, { timeoutMs });
    const encoded = encodeState(state, INIT, undefined);
    const item = insertInput(TABLE, NAME, CORRELATION_ID, encoded).TransactItems![0]!.Put!
      .Item as Record<string, unknown>;
    expect(decodeSagaItem(item, INIT, undefined).state.metadata.timeoutMs).toBe(timeoutMs);
  });

  it("agrees with lib-dynamodb on the safe-integer bound", () => {
    for (const n of [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, -1e20, 1e-130, 0]) {
      if (!DynamoDBNumber.is(n)) expect(libDynamoDBAccepts(n)).toBe(false);
      else expect(libDynamoDBAccepts(n)).toBe(true);
    }
  });

  it("is refused on read as well (InvalidItemError), like the item's other numbers", () => {
    const item = insertInput(
      TABLE,
      NAME,
      CORRELATION_ID,
      encodeState(makeState({}), INIT, undefined),
    ).TransactItems![0]!.Put!.Item as Record<string, unknown>;
    const error = thrown(() => decodeSagaItem({ ...item, timeoutMs: 1e-200 }, INIT, undefined));
    expect(error).toBeInstanceOf(InvalidItemError);
    expect(error.message).toContain("item.timeoutMs");
  });
});

describe("named properties of arrays (JSON drops them)", () => {
  it("are refused with the path of the array", () => {
    const lines: unknown[] = [1, 2];
    Object.assign(lines, { extra: 2 });
    const error = thrown(() => encodeState(makeState({ order: { lines } }), INIT, undefined));
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error.message).toContain('state.order.lines is an array with a named property "extra"');
  });

  it("are refused on an empty array and inside arrays", () => {
    const empty = Object.assign([], { note: "x" });
    const error = thrown(() => encodeState(makeState({ rows: [[], [empty]] }), INIT, undefined));
    expect(error.message).toContain('state.rows[1][0] is an array with a named property "note"');
  });

  it("are refused for a RegExp match (index, input, groups)", () => {
    const match = /b+/.exec("abbc");
    const error = thrown(() => encodeState(makeState({ match }), INIT, undefined));
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error.message).toContain('state.match is an array with a named property "index"');
  });

  it("make insert fail before any request", async () => {
    const { send, calls } = answeringSend({});
    const tags = Object.assign(["a"], { extra: true });
    const error = await rejection(
      makeStore(send).insert(NAME, CORRELATION_ID, makeState({ tags })),
    );
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(calls).toHaveLength(0);
  });

  it("are let through when not enumerable (not data, as for objects)", () => {
    const lines = [1, 2];
    Object.defineProperty(lines, "cached", { value: 3, enumerable: false });
    expect(() => encodeState(makeState({ lines }), INIT, undefined)).not.toThrow();
  });

  it("a plain array, with Dates inside, still round-trips", () => {
    const state = makeState({ at: [new Date(5), [new Date(6)]] });
    const encoded = encodeState(state, INIT, undefined);
    expect(encoded.state).toBe('{"at":[5,[6]]}');
  });
});

describe("symbol keys (JSON drops them)", () => {
  it("are refused on a nested object, naming its path", () => {
    const customer = { name: "Ada", [Symbol("tag")]: "vip" };
    const error = thrown(() => encodeState(makeState({ customer }), INIT, undefined));
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error.message).toContain("state.customer has a symbol key (Symbol(tag))");
  });

  it("are refused at the top of the state and inside arrays", () => {
    const top = thrown(() => encodeState(makeState({ [Symbol("s")]: 1 }), INIT, undefined));
    expect(top.message).toContain("state has a symbol key");
    const inArray = thrown(() =>
      encodeState(makeState({ rows: [{}, { [Symbol.iterator]: 1 }] }), INIT, undefined),
    );
    expect(inArray.message).toContain("state.rows[1] has a symbol key (Symbol(Symbol.iterator))");
  });

  it("are refused on an object with a null prototype", () => {
    const bare = Object.assign(Object.create(null) as object, { [Symbol("s")]: 1 });
    const error = thrown(() => encodeState(makeState({ bare }), INIT, undefined));
    expect(error.message).toContain("state.bare has a symbol key");
  });

  it("make update fail before any request", async () => {
    const { send, calls } = answeringSend({});
    const state = makeState({ customer: { [Symbol("s")]: 1 } }, { version: 1 });
    const error = await rejection(makeStore(send).update(NAME, state, 0));
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(calls).toHaveLength(0);
  });

  it("are let through when not enumerable", () => {
    const customer = { name: "Ada" };
    Object.defineProperty(customer, Symbol("cache"), { value: 1, enumerable: false });
    expect(() => encodeState(makeState({ customer }), INIT, undefined)).not.toThrow();
  });
});
