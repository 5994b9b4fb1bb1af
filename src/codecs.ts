/**
 * io-ts codecs: the saga metadata as the runtime holds it (Dates in memory) and the saga
 * item as the table holds it (ISO-8601 strings on the wire). They are exported so that
 * applications can validate their own states with the same building blocks.
 */
import * as t from "io-ts";
import { PathReporter } from "io-ts/lib/PathReporter.js";
import type { SagaStateMetadata } from "./contract.js";

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

const nullable = <C extends t.Mixed>(codec: C) => t.union([codec, t.null]);

const FiniteNumber = t.refinement(t.number, Number.isFinite, "FiniteNumber");

/** `metadata` of a saga state in memory, exactly as the saga-bus runtime builds it. */
export const SagaMetadataCodec: t.Type<SagaStateMetadata, SagaStateMetadata, unknown> =
  t.intersection(
    [
      t.type({
        sagaId: t.string,
        version: NonNegativeInteger,
        createdAt: ValidDate,
        updatedAt: ValidDate,
        isCompleted: t.boolean,
      }),
      t.partial({
        archivedAt: nullable(ValidDate),
        traceParent: nullable(t.string),
        traceState: nullable(t.string),
        timeoutMs: nullable(FiniteNumber),
        timeoutExpiresAt: nullable(ValidDate),
      }),
    ],
    "SagaMetadata",
  );

/**
 * A saga item as stored: keys, metadata as top-level attributes (dates as ISO strings),
 * the application's fields as JSON in `state`, and the paths of the Dates inside that
 * JSON in `stateDates`.
 */
export const SagaItemCodec = t.intersection(
  [
    t.type({
      PK: t.string,
      SK: t.string,
      sagaName: t.string,
      sagaId: t.string,
      correlationId: t.string,
      version: NonNegativeInteger,
      isCompleted: t.boolean,
      createdAt: DateFromISOString,
      updatedAt: DateFromISOString,
      state: t.string,
    }),
    t.partial({
      archivedAt: nullable(DateFromISOString),
      traceParent: nullable(t.string),
      traceState: nullable(t.string),
      timeoutMs: nullable(FiniteNumber),
      timeoutExpiresAt: nullable(DateFromISOString),
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

/** Readable, one-line report of why a decode failed. */
export const report = (result: t.Validation<unknown>): string =>
  PathReporter.report(result).join("; ");
