import fc from "fast-check";
import * as t from "io-ts";
import {
  InvalidItemError,
  InvalidStateError,
  SagaMetadataCodec,
  ValidDate,
  type SagaState,
  type SagaStateMetadata,
  type StateCodec,
} from "../../src";
import { decodeSagaItem, encodeState } from "../../src/internals";
import { insertInput } from "../../src/commands";
import { thrown } from "../support/caught";
import {
  CORRELATION_ID,
  metadata as unitMetadata,
  NAME,
  SAGA_ID,
  TABLE,
} from "../support/unit-states";

// ---------------------------------------------------------------------------------------------
// Helpers

const INIT = { sagaName: NAME, sagaId: SAGA_ID };

type AnyState = SagaState & Record<string, unknown>;

/** The unit saga's metadata, its dates with milliseconds (which a round trip must keep). */
const metadata = (overrides: Partial<SagaStateMetadata> = {}): SagaStateMetadata =>
  unitMetadata({
    createdAt: new Date("2024-05-01T10:00:00.123Z"),
    updatedAt: new Date("2024-05-01T10:00:05.456Z"),
    ...overrides,
  });

/** A valid state: the given application fields plus metadata. */
const makeState = (
  fields: Record<string, unknown> = {},
  meta: Partial<SagaStateMetadata> = {},
): AnyState => ({ ...fields, metadata: metadata(meta) });

/** The saga item `insert` would write (the Item of the first Put of the transaction). */
const toItem = <S extends SagaState>(state: S, codec?: StateCodec<S>): Record<string, unknown> => {
  const encoded = encodeState(state, INIT, codec);
  const input = insertInput(TABLE, NAME, CORRELATION_ID, encoded);
  return input.TransactItems![0]!.Put!.Item as Record<string, unknown>;
};

/** encode → item → decode. */
const roundTrip = <S extends SagaState>(state: S, codec?: StateCodec<S>): S =>
  decodeSagaItem(toItem(state, codec), INIT, codec).state;

/** Paths of every Date in a value. */
const datePaths = (value: unknown, path: Array<string | number> = []): Array<typeof path> => {
  if (value instanceof Date) return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => datePaths(v, [...path, i]));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => datePaths(v, [...path, k]));
  }
  return [];
};

const at = (value: unknown, path: ReadonlyArray<string | number>): unknown =>
  path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], value);

/** Every Date of `expected` is a Date instance with the same time in `actual`. */
const expectSameDates = (actual: unknown, expected: unknown): void => {
  for (const path of datePaths(expected)) {
    const got = at(actual, path);
    expect(got).toBeInstanceOf(Date);
    expect((got as Date).getTime()).toBe((at(expected, path) as Date).getTime());
  }
};

// ---------------------------------------------------------------------------------------------

describe("encode → item → decode round trip", () => {
  it("keeps plain JSON values", () => {
    const state = makeState({
      total: 12.5,
      big: 1e200,
      tiny: 5e-324,
      name: "Zoë ✓ 😀",
      flags: [true, false, null],
      nested: { list: [1, [2, [3]]], empty: {}, none: null },
    });
    expect(roundTrip(state)).toEqual(state);
  });

  it("brings back Dates anywhere as Date, to the millisecond", () => {
    const state = makeState({
      dueAt: new Date("2024-06-01T12:34:56.789Z"),
      nested: { deep: { at: new Date(1) } },
      list: [new Date(-1), { when: new Date("1969-12-31T23:59:59.999Z") }, [new Date(0)]],
    });
    const back = roundTrip(state);
    expect(back).toEqual(state);
    expectSameDates(back, state);
    expect((back.dueAt as Date).getUTCMilliseconds()).toBe(789);
    expect(((back.list as unknown[])[0] as Date).getTime()).toBe(-1);
    // Dates are real Dates: a handler can call their methods.
    expect((back.dueAt as Date).toISOString()).toBe("2024-06-01T12:34:56.789Z");
  });

  it("brings back the same Date object referenced from two places (not a cycle)", () => {
    const shared = { at: new Date("2024-01-01T00:00:00.000Z") };
    const state = makeState({ a: shared, b: shared });
    const back = roundTrip(state);
    expect(back).toEqual(state);
    expect((back.a as { at: unknown }).at).toBeInstanceOf(Date);
    expect((back.b as { at: unknown }).at).toBeInstanceOf(Date);
  });

  it("keeps ISO-looking strings as strings (only real Dates become Dates)", () => {
    const state = makeState({ label: "2024-06-01T12:34:56.789Z" });
    expect(roundTrip(state).label).toBe("2024-06-01T12:34:56.789Z");
  });

  it("keeps # and lone surrogates inside state strings and keys", () => {
    const state = makeState({ "we#ird\ud800": "x\udc00y", "a.b": { "[0]": 1 } });
    expect(roundTrip(state)).toEqual(state);
  });

  it("keeps keys such as __proto__ and constructor as plain own properties", () => {
    const fields = JSON.parse('{"__proto__": {"d": null}, "constructor": 1}') as Record<
      string,
      Record<string, unknown>
    >;
    fields["__proto__"]!.d = new Date(5);
    const state = makeState(fields);
    const back = roundTrip(state);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.getOwnPropertyNames(back)).toEqual(["__proto__", "constructor", "metadata"]);
    expect(back).toEqual(state);
    expectSameDates(back, state);
  });

  it("stores the metadata as top-level attributes and the application fields as JSON", () => {
    const item = toItem(makeState({ dueAt: new Date("2024-06-01T00:00:00.000Z"), n: 1 }));
    expect(item).toMatchObject({
      sagaId: SAGA_ID,
      version: 0,
      isCompleted: false,
      createdAt: "2024-05-01T10:00:00.123Z",
      updatedAt: "2024-05-01T10:00:05.456Z",
      state: '{"dueAt":1717200000000,"n":1}', // Dates as epoch milliseconds
      stateDates: '[["dueAt"]]',
    });
    expect(JSON.parse(item.state as string)).not.toHaveProperty("metadata");
  });

  it("writes no stateDates attribute when the state holds no Date", () => {
    expect(toItem(makeState({ n: 1 }))).not.toHaveProperty("stateDates");
  });

  it("brings back every metadata date as a Date", () => {
    const meta: Partial<SagaStateMetadata> = {
      version: 3,
      isCompleted: true,
      archivedAt: new Date("2024-05-03T00:00:00.001Z"),
      traceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      traceState: "vendor=value",
      timeoutMs: 30000,
      timeoutExpiresAt: new Date("2024-05-01T10:00:35.456Z"),
    };
    const state = makeState({}, meta);
    const back = roundTrip(state);
    expect(back.metadata).toEqual(state.metadata);
    for (const field of ["createdAt", "updatedAt", "archivedAt", "timeoutExpiresAt"] as const) {
      expect(back.metadata[field]).toBeInstanceOf(Date);
      expect((back.metadata[field] as Date).getTime()).toBe(
        (state.metadata[field] as Date).getTime(),
      );
    }
  });

  it("keeps null optional metadata as null and absent optional metadata absent", () => {
    const state = makeState({}, { archivedAt: null, traceParent: null, timeoutMs: null });
    const item = toItem(state);
    expect(item).toMatchObject({ archivedAt: null, traceParent: null, timeoutMs: null });
    expect(item).not.toHaveProperty("traceState");
    expect(item).not.toHaveProperty("timeoutExpiresAt");

    const back = roundTrip(state);
    expect(back.metadata.archivedAt).toBeNull();
    expect(back.metadata.traceParent).toBeNull();
    expect(back.metadata.timeoutMs).toBeNull();
    expect("traceState" in back.metadata).toBe(false);
    expect("timeoutExpiresAt" in back.metadata).toBe(false);
  });

  it("drops undefined object properties, as JSON does (documented choice)", () => {
    const state = makeState({ kept: 1, gone: undefined, nested: { alsoGone: undefined } });
    const back = roundTrip(state);
    expect(back).toEqual(makeState({ kept: 1, nested: {} }));
    expect("gone" in back).toBe(false);
    expect("alsoGone" in (back.nested as object)).toBe(false);
  });

  it("does not modify the state it encodes", () => {
    const dueAt = new Date("2024-06-01T00:00:00.000Z");
    const state = makeState({ dueAt, list: [dueAt] });
    toItem(state);
    expect(state.dueAt).toBe(dueAt);
    expect((state.list as unknown[])[0]).toBe(dueAt);
  });
});

describe("encodeState rejects what it cannot store faithfully", () => {
  const circular: Record<string, unknown> = { name: "loop" };
  circular.self = circular;

  class Money {
    constructor(readonly cents: number) {}
  }

  it.each<[string, Record<string, unknown>, string]>([
    ["NaN", { amount: NaN }, "state.amount is NaN, which JSON cannot hold"],
    ["Infinity", { nested: { x: Infinity } }, "state.nested.x is Infinity"],
    ["-Infinity", { list: [1, -Infinity] }, "state.list[1] is -Infinity"],
    ["a BigInt", { count: 10n }, "state.count is a bigint, which cannot be stored"],
    ["a function", { fn: () => 1 }, "state.fn is a function, which cannot be stored"],
    ["a symbol", { tag: Symbol("x") }, "state.tag is a symbol, which cannot be stored"],
    ["a Map", { lookup: new Map([["a", 1]]) }, "state.lookup is a Map instance"],
    ["a Set", { ids: new Set([1]) }, "state.ids is a Set instance"],
    ["a class instance", { price: new Money(100) }, "state.price is a Money instance"],
    ["an invalid Date", { dueAt: new Date(NaN) }, "state.dueAt is an invalid Date"],
    ["undefined in an array", { items: [1, undefined] }, "state.items[1] is undefined inside"],
    ["a hole in an array", { items: [1, , 3] }, "state.items[1] is undefined inside"], // eslint-disable-line no-sparse-arrays
    ["a circular reference", { node: circular }, "state.node.self is a circular reference"],
    ["a nested class instance", { a: [{ b: new Money(1) }] }, "state.a[0].b is a Money"],
  ])("%s", (_label, fields, problem) => {
    const error = thrown(() => encodeState(makeState(fields), INIT, undefined));
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error).toMatchObject({ name: "InvalidStateError", code: "state.invalid" });
    expect((error as Error).message).toContain(`saga "${NAME}" (id "${SAGA_ID}")`);
    expect((error as Error).message).toContain(problem);
  });

  it.each<[string, unknown, string]>([
    ["missing metadata", { total: 1 }, "metadata"],
    ["metadata without sagaId", { metadata: { ...metadata(), sagaId: undefined } }, "sagaId"],
    [
      "metadata with a string date",
      { metadata: { ...metadata(), createdAt: "2024-05-01T10:00:00.000Z" } },
      "createdAt",
    ],
    [
      "metadata with an invalid Date",
      { metadata: metadata({ updatedAt: new Date(NaN) }) },
      "updatedAt",
    ],
    [
      "metadata with isCompleted not boolean",
      { metadata: { ...metadata(), isCompleted: "no" } },
      "isCompleted",
    ],
    ["a negative version", { metadata: metadata({ version: -1 }) }, "version"],
    ["a fractional version", { metadata: metadata({ version: 1.5 }) }, "version"],
    ["a NaN timeoutMs", { metadata: metadata({ timeoutMs: NaN }) }, "timeoutMs"],
  ])("%s", (_label, state, path) => {
    const error = thrown(() => encodeState(state as AnyState, INIT, undefined));
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error).toMatchObject({ code: "state.invalid", sagaName: NAME });
    expect((error as Error).message).toContain(`saga "${NAME}"`);
    expect((error as Error).message).toContain("metadata");
    expect((error as Error).message).toContain(path);
  });

  it.each([null, "state", 42])("a state that is not an object (%p)", (state) => {
    const error = thrown(() => encodeState(state as unknown as AnyState, INIT, undefined));
    expect(error).toBeInstanceOf(InvalidStateError);
    expect((error as Error).message).toContain("expected an object");
  });
});

describe("application stateCodec", () => {
  const OrderState = t.type({
    total: t.number,
    dueAt: ValidDate,
    metadata: SagaMetadataCodec,
  });
  type OrderState = t.TypeOf<typeof OrderState>;

  const order = (fields: Record<string, unknown>): OrderState =>
    makeState(fields) as unknown as OrderState;

  it("lets a valid state through, and sees Dates (not strings) on read", () => {
    const state = order({ total: 10, dueAt: new Date("2024-06-01T00:00:00.000Z") });
    const back = roundTrip(state, OrderState);
    expect(back).toEqual(state);
    expect(back.dueAt).toBeInstanceOf(Date);
  });

  it("rejects on write with InvalidStateError naming the path and the type expected", () => {
    const state = order({ total: 10, dueAt: "2024-06-01" });
    const error = thrown(() => encodeState(state, INIT, OrderState));
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error).toMatchObject({ code: "state.invalid", sagaName: NAME, sagaId: SAGA_ID });
    expect((error as Error).message).toContain(`saga "${NAME}"`);
    expect((error as Error).message).toContain("state.dueAt: expected ValidDate, got string");
  });

  it("rejects on read with InvalidItemError (item.invalid) naming the path and the type expected", () => {
    // Written without the codec (e.g. by an older version of the application).
    const item = toItem(makeState({ total: "ten", dueAt: new Date(0) }));
    const error = thrown(() => decodeSagaItem(item, INIT, OrderState));
    expect(error).toBeInstanceOf(InvalidItemError);
    expect(error).toMatchObject({ name: "InvalidItemError", code: "item.invalid" });
    expect((error as Error).message).toContain("fails the application's codec");
    expect((error as Error).message).toContain("state.total: expected number, got string");
    expect(error.report).toEqual(expect.stringContaining("state.total"));
  });
});

describe("decodeSagaItem rejects items it cannot read", () => {
  const good = () => toItem(makeState({ dueAt: new Date(0) }));

  it.each<[string, (item: Record<string, unknown>) => Record<string, unknown>, string]>([
    ["a missing state", ({ state: _state, ...rest }) => rest, "state"],
    ["a version that is not a number", (item) => ({ ...item, version: "1" }), "version"],
    ["a bad createdAt", (item) => ({ ...item, createdAt: "yesterday" }), "createdAt"],
    ["state that is not JSON", (item) => ({ ...item, state: "{" }), "state is not JSON"],
    ["state that is a JSON array", (item) => ({ ...item, state: "[]" }), "not a JSON object"],
    ["stateDates that is not a list", (item) => ({ ...item, stateDates: "{}" }), "not a list"],
    [
      "stateDates naming no date",
      (item) => ({ ...item, stateDates: '[["missing"]]' }),
      'stateDates names no date at ["missing"]',
    ],
  ])("%s", (_label, change, problem) => {
    const error = thrown(() => decodeSagaItem(change(good()), INIT, undefined));
    expect(error).toBeInstanceOf(InvalidItemError);
    expect(error).toMatchObject({ code: "item.invalid", sagaName: NAME });
    expect((error as Error).message).toContain(problem);
  });
});

describe("round trip (property)", () => {
  // JSON writes -0 as 0, so -0 is normalised away from the generated values: the store keeps
  // JSON's behaviour there, as it is indistinguishable in almost every use.
  const noNegativeZero = (value: unknown): unknown => {
    if (Object.is(value, -0)) return 0;
    if (Array.isArray(value)) return value.map(noNegativeZero);
    if (typeof value === "object" && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, noNegativeZero(v)]));
    }
    return value;
  };

  const validDate = fc.date({ noInvalidDate: true });

  const { value } = fc.letrec<{
    value: unknown;
    array: unknown[];
    object: Record<string, unknown>;
  }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.jsonValue({ maxDepth: 2 }).map(noNegativeZero),
      validDate,
      fc.string({ unit: "binary" }),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map(noNegativeZero),
      tie("array"),
      tie("object"),
    ),
    array: fc.array(tie("value"), { maxLength: 5 }),
    object: fc.dictionary(fc.string(), tie("value"), { maxKeys: 5 }),
  }));

  const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
  const metadataArb: fc.Arbitrary<SagaStateMetadata> = fc.record(
    {
      sagaId: fc.string({ minLength: 1 }),
      version: fc.nat(),
      createdAt: validDate,
      updatedAt: validDate,
      isCompleted: fc.boolean(),
      archivedAt: optional(validDate),
      traceParent: optional(fc.string()),
      traceState: optional(fc.string()),
      timeoutMs: optional(fc.nat()),
      timeoutExpiresAt: optional(validDate),
    },
    { requiredKeys: ["sagaId", "version", "createdAt", "updatedAt", "isCompleted"] },
  );

  const stateArb = fc
    .tuple(
      fc.dictionary(
        fc.string().filter((k) => k !== "metadata"),
        value,
        { maxKeys: 6 },
      ),
      metadataArb,
    )
    .map(([fields, meta]): AnyState => ({ ...fields, metadata: meta }));

  it("any JSON-like state with Dates anywhere comes back unchanged", () => {
    fc.assert(
      fc.property(stateArb, (state) => {
        const back = roundTrip(state);
        expect(back).toEqual(state);
        expectSameDates(back, state);
        expect(datePaths(back)).toEqual(datePaths(state));
      }),
      { numRuns: 300 },
    );
  });
});
