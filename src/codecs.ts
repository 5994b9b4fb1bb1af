/**
 * io-ts codecs: the saga metadata as the runtime holds it (Dates in memory) and the saga
 * item as the table holds it (ISO-8601 strings on the wire). They are exported so that
 * applications can validate their own states with the same building blocks.
 */
import * as t from "io-ts";
import type { SagaStateMetadata } from "./contract.js";
import { clip, clipMiddle } from "./errors.js";
import { describeType } from "./keys.js";

const isValidDate = (value: unknown): value is Date =>
  value instanceof Date && !Number.isNaN(value.getTime());

/** A `Date` instance holding a real time (not `Invalid Date`); encodes to itself. */
export const ValidDate = new t.Type<Date, Date, unknown>(
  "ValidDate",
  isValidDate,
  (input, context) => (isValidDate(input) ? t.success(input) : t.failure(input, context)),
  (date) => date,
);

/** A `Date` in memory, an ISO-8601 string (millisecond precision) on the wire. */
export const DateFromISOString = new t.Type<Date, string, unknown>(
  "DateFromISOString",
  isValidDate,
  (input, context) => {
    if (typeof input !== "string") return t.failure(input, context);
    const date = new Date(input);
    return Number.isNaN(date.getTime()) ? t.failure(input, context) : t.success(date);
  },
  (date) => date.toISOString(),
);

/** A whole number ≥ 0 (versions, timeouts). */
export const NonNegativeInteger = new t.Type<number, number, unknown>(
  "NonNegativeInteger",
  (input): input is number => Number.isSafeInteger(input) && (input as number) >= 0,
  (input, context) =>
    Number.isSafeInteger(input) && (input as number) >= 0
      ? t.success(input as number)
      : t.failure(input, context),
  (n) => n,
);

/**
 * `codec` or `null`: what `t.union([codec, t.null])` decodes, written out so that io-ts's
 * union (about 3 KB of a bundle) stays out of the store's hot path.
 */
const nullable = <C extends t.Mixed>(codec: C): t.Type<t.TypeOf<C> | null, t.OutputOf<C> | null> =>
  new t.Type<t.TypeOf<C> | null, t.OutputOf<C> | null>(
    `${codec.name} | null`,
    (input): input is t.TypeOf<C> | null => input === null || codec.is(input),
    (input, context) => (input === null ? t.success(null) : codec.validate(input, context)),
    (value) => (value === null ? null : (codec.encode(value) as t.OutputOf<C>)),
  );

/** DynamoDB's smallest non-zero magnitude; below it a number is refused, not rounded. */
const DYNAMODB_MIN_MAGNITUDE = 1e-130;

const isDynamoDBNumber = (input: unknown): input is number => {
  if (typeof input !== "number") return false;
  const magnitude = Math.abs(input);
  // MAX_SAFE_INTEGER is lib-dynamodb's bound (and far below DynamoDB's 1e125); NaN fails both.
  return (
    magnitude <= Number.MAX_SAFE_INTEGER && (magnitude >= DYNAMODB_MIN_MAGNITUDE || input === 0)
  );
};

/**
 * A number DynamoDB stores exactly and lib-dynamodb accepts: finite, at most
 * `Number.MAX_SAFE_INTEGER` in magnitude, and 0 or at least 1e-130 in magnitude. (A double
 * has at most 17 significant digits, within DynamoDB's 38.) Checked before a write, so such
 * a value fails as `InvalidStateError` instead of as a refused request.
 */
export const DynamoDBNumber = new t.Type<number, number, unknown>(
  "DynamoDBNumber",
  isDynamoDBNumber,
  (input, context) => (isDynamoDBNumber(input) ? t.success(input) : t.failure(input, context)),
  (n) => n,
);

/**
 * The saga metadata, defined once: each field's codec in memory (as the saga-bus runtime
 * builds it) and as stored (dates as ISO-8601 strings). Both metadata codecs are derived from
 * it, and the stored one encodes as well as decodes.
 */
const METADATA = {
  required: {
    sagaId: { memory: t.string, stored: t.string },
    version: { memory: NonNegativeInteger, stored: NonNegativeInteger },
    isCompleted: { memory: t.boolean, stored: t.boolean },
    createdAt: { memory: ValidDate, stored: DateFromISOString },
    updatedAt: { memory: ValidDate, stored: DateFromISOString },
  },
  optional: {
    archivedAt: { memory: nullable(ValidDate), stored: nullable(DateFromISOString) },
    traceParent: { memory: nullable(t.string), stored: nullable(t.string) },
    traceState: { memory: nullable(t.string), stored: nullable(t.string) },
    timeoutMs: { memory: nullable(DynamoDBNumber), stored: nullable(DynamoDBNumber) },
    timeoutExpiresAt: { memory: nullable(ValidDate), stored: nullable(DateFromISOString) },
  },
} as const;

type Fields = Record<string, { readonly memory: t.Mixed; readonly stored: t.Mixed }>;
type Side = "memory" | "stored";
type Pick<F extends Fields, S extends Side> = { [K in keyof F]: F[K][S] };

const pickSide = <F extends Fields, S extends Side>(fields: F, side: S): Pick<F, S> =>
  Object.fromEntries(Object.entries(fields).map(([name, codecs]) => [name, codecs[side]])) as Pick<
    F,
    S
  >;

/** Names of the metadata fields that may be absent (written only when present). */
export const OPTIONAL_METADATA = Object.keys(METADATA.optional) as Array<
  keyof typeof METADATA.optional
>;

/** Names of every metadata field, required ones first. */
export const METADATA_FIELDS = [
  ...(Object.keys(METADATA.required) as Array<keyof typeof METADATA.required>),
  ...OPTIONAL_METADATA,
];

/** `metadata` of a saga state in memory, exactly as the saga-bus runtime builds it. */
export const SagaMetadataCodec: t.Type<SagaStateMetadata, SagaStateMetadata, unknown> =
  t.intersection(
    [
      t.type(pickSide(METADATA.required, "memory")),
      t.partial(pickSide(METADATA.optional, "memory")),
    ],
    "SagaMetadata",
  );

/**
 * The metadata as a saga item stores it, as top-level attributes (dates as ISO strings):
 * `encode` turns the runtime's metadata into attributes, `decode` reads them back.
 */
export const StoredMetadataCodec = t.intersection(
  [t.type(pickSide(METADATA.required, "stored")), t.partial(pickSide(METADATA.optional, "stored"))],
  "StoredSagaMetadata",
);

/**
 * A saga item as stored: keys, metadata as top-level attributes (dates as ISO strings),
 * the application's fields as JSON in `state`, and the paths of the Dates inside that
 * JSON in `stateDates`.
 */
export const SagaItemCodec = t.intersection(
  [
    StoredMetadataCodec,
    t.type({
      PK: t.string,
      SK: t.string,
      sagaName: t.string,
      correlationId: t.string,
      state: t.string,
    }),
    t.partial({
      stateDates: t.string,
      completedAt: DateFromISOString,
      expiresAt: NonNegativeInteger,
      GSI1PK: t.string,
      GSI1SK: t.string,
      GSI2PK: t.string,
      GSI2SK: t.string,
    }),
  ],
  "SagaItem",
);

/** A decoded saga item (dates as `Date`). */
export type SagaItem = t.TypeOf<typeof SagaItemCodec>;
/** A saga item as stored (dates as ISO strings). */
export type SagaItemAttributes = t.OutputOf<typeof SagaItemCodec>;

/** The item that reserves a correlation id for one saga. */
export const CorrelationItemCodec = t.type(
  { PK: t.string, SK: t.string, sagaId: t.string },
  "CorrelationItem",
);

/** One place where a decode failed: never the value found there, only its type. */
export interface DecodeProblem {
  /** Where, from the root label, e.g. `state.lines[0].qty`. */
  readonly path: string;
  /** The name of the innermost type expected there (alternatives joined by ` | `). */
  readonly expected: string;
  /** The type of what was found (`string`, `undefined`, `Date instance`, …). */
  readonly found: string;
}

/** Codecs that validate through an inner codec without adding a context entry. */
const WRAPPERS = new Set(["RefinementType", "ReadonlyType", "ExactType", "StrictType"]);
/** Codecs whose context keys are member indexes, not places in the value. */
const COMBINATORS = new Set(["UnionType", "IntersectionType"]);

const tagOf = (type: t.Decoder<unknown, unknown>): unknown => (type as { _tag?: unknown })._tag;

/** Whether the entry a codec appended for `key` is a member of a union or intersection. */
const isMemberIndex = (parent: t.Decoder<unknown, unknown>): boolean => {
  let type: t.Decoder<unknown, unknown> = parent;
  for (let depth = 0; depth < 8 && WRAPPERS.has(tagOf(type) as string); depth++) {
    const inner = (type as { type?: t.Decoder<unknown, unknown> }).type;
    if (inner === undefined) break;
    type = inner;
  }
  return COMBINATORS.has(tagOf(type) as string);
};

const pathOf = (context: t.Context, root: string): string => {
  let path = root;
  for (let i = 1; i < context.length; i++) {
    const parent = context[i - 1]!;
    const { key } = context[i]!;
    if (isMemberIndex(parent.type)) continue;
    path += Array.isArray(parent.actual) ? `[${key}]` : `.${key}`;
  }
  return path === "" ? "(root)" : path.startsWith(".") ? path.slice(1) : path;
};

/**
 * The places where a decode failed, in order, one entry per path: a union that failed at
 * one place gives one entry expecting each of its members. No value is copied, so the
 * result is safe to log whatever the state holds.
 */
export const decodeProblems = (errors: t.Errors, root = ""): DecodeProblem[] => {
  const byPath = new Map<string, { expected: Set<string>; found: string }>();
  for (const error of errors) {
    const innermost = error.context[error.context.length - 1];
    const path = pathOf(error.context, root);
    const entry = byPath.get(path) ?? { expected: new Set<string>(), found: "" };
    entry.expected.add(innermost?.type.name ?? "?");
    entry.found = describeType(error.value);
    byPath.set(path, entry);
  }
  return [...byPath].map(([path, { expected, found }]) => ({
    path,
    expected: [...expected].join(" | "),
    found,
  }));
};

/** Longest path and type name in a summary; longer ones are cut at an ellipsis. */
const MAX_PATH = 80;
const MAX_TYPE_NAME = 60;

const describeProblem = (problem: DecodeProblem, short: boolean): string =>
  short
    ? `${clipMiddle(problem.path, MAX_PATH)}: expected ${clip(problem.expected, MAX_TYPE_NAME)}, ` +
      `got ${clip(problem.found, MAX_TYPE_NAME)}`
    : `${problem.path}: expected ${problem.expected}, got ${problem.found}`;

/**
 * At most `maxLength` characters naming the first problems (path, expected type, type
 * found) and how many more there are; for error messages, which end up in logs and headers.
 */
export const summarizeProblems = (problems: readonly DecodeProblem[], maxLength = 200): string => {
  let summary = "";
  let shown = 0;
  for (const problem of problems) {
    const part = (shown === 0 ? "" : "; ") + describeProblem(problem, true);
    const rest = problems.length - shown - 1;
    const tail = rest > 0 ? ` (and ${rest} more)` : "";
    if (summary.length + part.length + tail.length > maxLength && shown > 0) break;
    summary += part;
    shown++;
  }
  const hidden = problems.length - shown;
  return clip(summary + (hidden > 0 ? ` (and ${hidden} more)` : ""), maxLength);
};

/**
 * Why a decode failed: every problem with its whole path, the type expected and the type
 * found, one line, never a value (unlike io-ts's `PathReporter`). `root` prefixes each
 * path, e.g. `"state"`.
 */
export const report = (result: t.Validation<unknown>, root = ""): string =>
  result._tag === "Right"
    ? "no errors"
    : decodeProblems(result.left, root)
        .map((problem) => describeProblem(problem, false))
        .join("; ");
