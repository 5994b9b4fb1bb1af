import fc from "fast-check";
import { InvalidKeyError } from "../../src";
import { assertKeyParts, describeType, KEY_LIMITS, keyProblem } from "../../src/keys";
import { DEFAULT_LAYOUT } from "../../src/layout";
import { thrown } from "../support/caught";

// The default layout's key formats, under the names this file has always used.
const { sagaKey, correlationKey, cleanupSortPrefix, sagaIdFromSortKey } = DEFAULT_LAYOUT;
const sagaPartition = (name: string) => DEFAULT_LAYOUT.sagaPartitions(name)[0];
const correlationIndexSortKey = (id: string) => DEFAULT_LAYOUT.correlationIndexKey("S", id).GSI1SK;
const cleanupIndexKey = (name: string, id: string, at = new Date(0)) =>
  DEFAULT_LAYOUT.cleanupIndexKey(name, id, at);
const completedPartition = (at: Date) => cleanupIndexKey("S", "x", at).GSI2PK;
const cleanupSortKey = (name: string, id: string) => cleanupIndexKey(name, id).GSI2SK!;

/** A valid saga name: anything `keyProblem` accepts (so no `#`, no controls, within limits). */
const validSagaName = fc
  .string({ unit: "binary", minLength: 1, maxLength: 20 })
  .filter((s) => keyProblem("sagaName", s) === undefined);

/** A valid saga id or correlation id (these may contain `#`). */
const validId = fc
  .string({ unit: "binary", minLength: 1, maxLength: 30 })
  .filter((s) => keyProblem("sagaId", s) === undefined);

describe("key builders: the seed's layout", () => {
  it("builds the saga item key PK=SAGA#<name>, SK=ID#<id>", () => {
    expect(sagaKey("OrderSaga", "a1b2")).toEqual({ PK: "SAGA#OrderSaga", SK: "ID#a1b2" });
    expect(sagaPartition("OrderSaga")).toBe("SAGA#OrderSaga");
  });

  it("builds the correlation item key PK=SAGA#<name>, SK=CORR#<correlation>", () => {
    expect(correlationKey("OrderSaga", "order-42")).toEqual({
      PK: "SAGA#OrderSaga",
      SK: "CORR#order-42",
    });
  });

  it("builds GSI1: GSI1PK=SAGA#<name>, GSI1SK=CORR#<correlation>", () => {
    expect(sagaPartition("OrderSaga")).toBe("SAGA#OrderSaga");
    expect(correlationIndexSortKey("order-42")).toBe("CORR#order-42");
  });

  it("builds GSI2PK as COMPLETED#<YYYY-MM-DD> of the UTC day", () => {
    expect(completedPartition(new Date("2024-03-10T12:00:00.000Z"))).toBe("COMPLETED#2024-03-10");
    // 23:30 at UTC-5 is already the next day in UTC.
    expect(completedPartition(new Date("2024-03-10T23:30:00-05:00"))).toBe("COMPLETED#2024-03-11");
    // 00:30 at UTC+2 is still the previous day in UTC.
    expect(completedPartition(new Date("2024-01-01T00:30:00+02:00"))).toBe("COMPLETED#2023-12-31");
  });

  it("builds GSI2SK as <name>#<id> with the prefix <name>#", () => {
    expect(cleanupSortKey("OrderSaga", "a1b2")).toBe("OrderSaga#a1b2");
    expect(cleanupSortPrefix("OrderSaga")).toBe("OrderSaga#");
  });

  it("keeps # inside ids and correlation ids verbatim", () => {
    expect(sagaKey("S", "a#b")).toEqual({ PK: "SAGA#S", SK: "ID#a#b" });
    expect(correlationKey("S", "x#y#")).toEqual({ PK: "SAGA#S", SK: "CORR#x#y#" });
    expect(cleanupSortKey("S", "#id")).toBe("S##id");
  });

  it("recovers the saga id from a saga sort key", () => {
    expect(sagaIdFromSortKey("ID#a#b")).toBe("a#b");
    expect(sagaIdFromSortKey(sagaKey("S", "xyz").SK)).toBe("xyz");
  });
});

describe("keyProblem", () => {
  it("accepts ordinary names and ids", () => {
    expect(keyProblem("sagaName", "OrderSaga")).toBeUndefined();
    expect(keyProblem("sagaId", "3f1c2a9e-0d4b-4c8e-9c61-5a7f0e0b1d2c")).toBeUndefined();
    expect(keyProblem("correlationId", "order-42")).toBeUndefined();
    expect(keyProblem("sagaName", "Überweisung-✓")).toBeUndefined();
  });

  it("rejects non-strings, naming the type", () => {
    expect(keyProblem("sagaName", undefined)).toBe("sagaName must be a string, got undefined");
    expect(keyProblem("sagaId", 42)).toBe("sagaId must be a string, got number");
    expect(keyProblem("correlationId", null)).toBe("correlationId must be a string, got null");
    expect(keyProblem("sagaId", ["a"])).toBe("sagaId must be a string, got array");
    expect(keyProblem("sagaId", new Date(0))).toBe("sagaId must be a string, got Date instance");
  });

  it("rejects empty values", () => {
    expect(keyProblem("sagaName", "")).toBe("sagaName must not be empty");
    expect(keyProblem("sagaId", "")).toBe("sagaId must not be empty");
    expect(keyProblem("correlationId", "")).toBe("correlationId must not be empty");
  });

  it("rejects # in saga names only", () => {
    expect(keyProblem("sagaName", "A#B")).toBe('sagaName must not contain "#"');
    expect(keyProblem("sagaName", "#")).toBe('sagaName must not contain "#"');
    expect(keyProblem("sagaId", "A#B")).toBeUndefined();
    expect(keyProblem("correlationId", "#")).toBeUndefined();
  });

  it.each([
    ["NUL", "a\u0000b"],
    ["tab", "a\tb"],
    ["newline", "a\nb"],
    ["unit separator", "a\u001fb"],
    ["DEL", "a\u007fb"],
  ])("rejects the control character %s in every part", (_label, value) => {
    for (const part of ["sagaName", "sagaId", "correlationId"] as const) {
      expect(keyProblem(part, value)).toBe(`${part} must not contain control characters`);
    }
  });

  it.each([
    ["lone high surrogate", "a\ud800b"],
    ["lone low surrogate", "\udc00"],
    ["reversed pair", "\udc00\ud800"],
  ])("rejects a %s", (_label, value) => {
    expect(keyProblem("sagaId", value)).toBe("sagaId must not contain lone UTF-16 surrogates");
    expect(keyProblem("sagaName", value)).toBe("sagaName must not contain lone UTF-16 surrogates");
  });

  it("accepts a well-formed surrogate pair", () => {
    expect(keyProblem("sagaId", "emoji-😀")).toBeUndefined();
  });

  it.each(["sagaName", "sagaId", "correlationId"] as const)(
    "limits %s to KEY_LIMITS bytes (UTF-8, not characters)",
    (part) => {
      const limit = KEY_LIMITS[part];
      expect(keyProblem(part, "a".repeat(limit))).toBeUndefined();
      expect(keyProblem(part, "a".repeat(limit + 1))).toBe(
        `${part} is ${limit + 1} bytes, over the limit of ${limit}`,
      );
      // "é" is 2 bytes in UTF-8: fewer characters than the limit, more bytes.
      const chars = Math.floor(limit / 2) + 1;
      expect("é".repeat(chars).length).toBeLessThan(limit);
      expect(keyProblem(part, "é".repeat(chars))).toBe(
        `${part} is ${chars * 2} bytes, over the limit of ${limit}`,
      );
    },
  );

  it("has the documented limits", () => {
    expect(KEY_LIMITS).toEqual({ sagaName: 200, sagaId: 800, correlationId: 1000 });
  });
});

describe("assertKeyParts", () => {
  it("passes for valid parts, including # in ids", () => {
    expect(
      assertKeyParts({ sagaName: "S", sagaId: "a#b", correlationId: "c#d" }, { sagaName: "S" }),
    ).toBeUndefined();
  });

  it("throws InvalidKeyError (key.invalid) naming the saga and the problem", () => {
    const error = thrown(() =>
      assertKeyParts({ sagaName: "A#B", sagaId: "x" }, { sagaName: "A#B", sagaId: "x" }),
    );
    expect(error).toBeInstanceOf(InvalidKeyError);
    expect(error).toMatchObject({
      name: "InvalidKeyError",
      code: "key.invalid",
      sagaName: "A#B",
      sagaId: "x",
      message: 'saga "A#B" (id "x"): sagaName must not contain "#"',
    });
  });

  it("checks a part that is present but undefined", () => {
    const error = thrown(() => assertKeyParts({ sagaId: undefined }, {}));
    expect(error).toMatchObject({
      code: "key.invalid",
      message: expect.stringContaining("sagaId must be a string, got undefined"),
    });
  });

  it("ignores parts that are not given", () => {
    expect(assertKeyParts({ sagaName: "S" }, {})).toBeUndefined();
  });

  it.each([
    ["an empty correlation id", { correlationId: "" }, "correlationId must not be empty"],
    [
      "an over-long saga id",
      { sagaId: "x".repeat(801) },
      "sagaId is 801 bytes, over the limit of 800",
    ],
    ["a control character", { sagaName: "a\nb" }, "sagaName must not contain control characters"],
    [
      "a lone surrogate",
      { sagaName: "\ud800" },
      "sagaName must not contain lone UTF-16 surrogates",
    ],
  ])("rejects %s", (_label, parts, problem) => {
    const error = thrown(() => assertKeyParts(parts, {}));
    expect(error).toBeInstanceOf(InvalidKeyError);
    expect((error as Error).message).toContain(problem);
  });
});

describe("describeType", () => {
  it("tells null, arrays, plain objects and class instances apart", () => {
    expect(describeType(null)).toBe("null");
    expect(describeType([])).toBe("array");
    expect(describeType({})).toBe("object");
    expect(describeType(Object.create(null))).toBe("object");
    expect(describeType(new Map())).toBe("Map instance");
    expect(describeType(1n)).toBe("bigint");
  });
});

describe("keys of different saga names never collide (property)", () => {
  it("sagaKey, correlationKey and cleanupSortKey of a differ from b's; a's cleanup prefix never prefixes b's keys", () => {
    fc.assert(
      fc.property(validSagaName, validSagaName, validId, validId, (a, b, idA, idB) => {
        fc.pre(a !== b);
        expect(sagaKey(a, idA)).not.toEqual(sagaKey(b, idB));
        expect(correlationKey(a, idA)).not.toEqual(correlationKey(b, idB));
        // A saga item and a correlation item never share a key, even within one name.
        expect(sagaKey(a, idA)).not.toEqual(correlationKey(a, idB));
        expect(cleanupSortKey(a, idA)).not.toBe(cleanupSortKey(b, idB));
        expect(cleanupSortKey(b, idB).startsWith(cleanupSortPrefix(a))).toBe(false);
        expect(cleanupSortKey(a, idA).startsWith(cleanupSortPrefix(a))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("covers the A vs A#B case: A#B is not a valid name, so A's prefix cannot reach it", () => {
    expect(keyProblem("sagaName", "A#B")).toBeDefined();
    // Were it allowed, the cleanup prefix of A would match its sagas:
    expect(cleanupSortKey("A#B", "1").startsWith(cleanupSortPrefix("A"))).toBe(true);
    // whereas a valid name that merely starts like A does not:
    expect(cleanupSortKey("AB", "1").startsWith(cleanupSortPrefix("A"))).toBe(false);
  });
});
