/**
 * What a failed DynamoDB request means for the store: a failed condition (handled by the
 * operation that set it), a retryable fault (thrown as saga-bus's `TransientError`), or a
 * refusal that retrying will not fix (thrown as `DynamoDBRequestError`).
 */
import type { RetryableErrorClasses } from "./core-link.js";
import {
  clip,
  DynamoDBRequestError,
  MAX_CAUSE_MESSAGE,
  SagaStoreError,
  subject,
  type SagaStoreErrorInit,
} from "./errors.js";

interface AwsErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly $fault?: unknown;
  readonly $retryable?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
  readonly Item?: unknown;
  readonly CancellationReasons?: unknown;
}

const shape = (error: unknown): AwsErrorShape =>
  typeof error === "object" && error !== null ? (error as AwsErrorShape) : {};

/** Error names DynamoDB and the SDK use for faults that may pass on retry. */
const RETRYABLE_NAMES = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "InternalServerError",
  "ServiceUnavailable",
  "TransactionInProgressException",
  // The item is part of a concurrent transaction (a delete): a later attempt gets through.
  "TransactionConflictException",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  // Credentials that expired or could not be fetched in time (a slow metadata endpoint or
  // STS): the SDK fetches them again on the next attempt. A worker with none at all fails the
  // same way, and ends in the dead-letter queue once saga-bus's retries run out.
  "ExpiredTokenException",
  "CredentialsProviderError",
  "ProviderError",
  "TokenProviderError",
]);

/**
 * Codes of a cancelled transaction's reasons, and of failed PartiQL statements, that a later
 * attempt may get through.
 */
const RETRYABLE_REASONS = new Set([
  "TransactionConflict",
  "ThrottlingError",
  "ProvisionedThroughputExceeded",
  "RequestLimitExceeded",
  "InternalServerError",
]);

/** Whether a transaction reason or statement error code may pass on a later attempt. */
export const isRetryableReason = (code: string): boolean => RETRYABLE_REASONS.has(code);

/** Node's error codes of a failed or lost connection. */
export const NETWORK_CODES: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** One reason of a cancelled transaction, in action order. */
export interface CancellationReason {
  readonly Code?: string;
  /** The item as stored (raw attribute values), when `ALL_OLD` was asked for. */
  readonly Item?: Record<string, unknown>;
}

/** DynamoDB's answer for a table (or index) that does not exist. */
export const isTableNotFound = (error: unknown): boolean =>
  shape(error).name === "ResourceNotFoundException";

/**
 * DynamoDB's refusal of a write whose resulting item would exceed 400 KB (a
 * `ValidationException`; the whole request is refused, nothing is written).
 */
export const isItemTooLarge = (error: unknown): boolean => {
  const { name, message } = shape(error);
  return (
    name === "ValidationException" &&
    typeof message === "string" &&
    /item size.*exceeded the maximum allowed size/i.test(message)
  );
};

/** `ConditionalCheckFailedException` of a single-item write. */
export const isConditionalCheckFailure = (error: unknown): boolean =>
  shape(error).name === "ConditionalCheckFailedException";

/** The reasons of a `TransactionCanceledException`, or `undefined` for any other error. */
export const cancellationReasons = (error: unknown): readonly CancellationReason[] | undefined => {
  const { name, CancellationReasons } = shape(error);
  return name === "TransactionCanceledException" && Array.isArray(CancellationReasons)
    ? (CancellationReasons as CancellationReason[])
    : undefined;
};

/** Whether retrying the same request later may succeed. */
export const isRetryable = (error: unknown): boolean => {
  const e = shape(error);
  if (typeof e.name === "string" && RETRYABLE_NAMES.has(e.name)) return true;
  if (typeof e.code === "string" && NETWORK_CODES.has(e.code)) return true;
  const reasons = cancellationReasons(error);
  if (reasons !== undefined) {
    return reasons.some((r) => r.Code !== undefined && RETRYABLE_REASONS.has(r.Code));
  }
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === "number" && status >= 500) return true;
  return e.$fault === "server" || e.$retryable !== undefined;
};

/**
 * A value of an item from an error (raw `{ S }`/`{ N }` attribute values, as DynamoDB
 * returns them in failures) or from a document-client answer (plain values).
 */
export const attribute = (
  item: Record<string, unknown> | undefined,
  name: string,
): string | number | undefined => {
  const value = item?.[name];
  if (typeof value === "string" || typeof value === "number") return value;
  if (typeof value === "object" && value !== null) {
    const raw = value as { S?: unknown; N?: unknown };
    if (typeof raw.S === "string") return raw.S;
    if (typeof raw.N === "string") return Number(raw.N);
  }
  return undefined;
};

/** The error the store throws for a request that failed for a reason it does not handle. */
export const toStoreError = (
  error: unknown,
  operation: string,
  init: SagaStoreErrorInit,
  classes: RetryableErrorClasses,
): Error => {
  // Errors the store made itself (typed, or saga-bus's retryable ones) pass as they are.
  if (
    error instanceof SagaStoreError ||
    error instanceof classes.ConcurrencyError ||
    error instanceof classes.TransientError
  ) {
    return error;
  }
  if (isRetryable(error)) {
    const cause = error instanceof Error ? error : new Error(String(error));
    const reason = clip(`${cause.name}: ${cause.message}`, MAX_CAUSE_MESSAGE);
    return new classes.TransientError(
      `${operation} of ${subject(init)} failed and may succeed on retry: ${reason}`,
      cause,
    );
  }
  return new DynamoDBRequestError(operation, { ...init, cause: error });
};
