/**
 * Typed errors. Every error the store raises on its own names the saga it concerns and
 * carries a stable, machine-readable `code`, so callers can narrow without matching text.
 */

/** Stable codes, grouped by a dotted prefix (`saga.`, `state.`, `key.`, …). */
export type SagaStoreErrorCode =
  | "saga.alreadyExists"
  | "saga.notFound"
  | "state.invalid"
  | "state.tooLarge"
  | "key.invalid"
  | "item.invalid"
  | "cursor.invalid"
  | "options.invalid"
  | "table.invalid"
  | "request.failed";

/** What every typed store error shares. */
export interface SagaStoreErrorInit {
  readonly sagaName?: string;
  readonly sagaId?: string;
  readonly correlationId?: string;
  /** Extra facts (an io-ts report, a size, the offending path). */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
}

/** Base class of the store's own errors; `code` says what went wrong. */
export class SagaStoreError extends Error {
  readonly code: SagaStoreErrorCode;
  readonly sagaName: string | undefined;
  readonly sagaId: string | undefined;
  readonly correlationId: string | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: SagaStoreErrorCode, message: string, init: SagaStoreErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "SagaStoreError";
    this.code = code;
    this.sagaName = init.sagaName;
    this.sagaId = init.sagaId;
    this.correlationId = init.correlationId;
    this.details = init.details;
  }

  /**
   * Type guard over any thrown value; with `codePrefix` it narrows to one family,
   * e.g. `SagaStoreError.is(e, "state.")` matches `state.invalid` and `state.tooLarge`.
   */
  static is(error: unknown, codePrefix?: string): error is SagaStoreError {
    return (
      error instanceof SagaStoreError &&
      (codePrefix === undefined || error.code.startsWith(codePrefix))
    );
  }
}

const subject = (init: SagaStoreErrorInit): string =>
  `saga "${init.sagaName ?? "?"}"` + (init.sagaId === undefined ? "" : ` (id "${init.sagaId}")`);

/** `insert` found a saga with the same id already stored. */
export class SagaAlreadyExistsError extends SagaStoreError {
  constructor(init: SagaStoreErrorInit) {
    super("saga.alreadyExists", `${subject(init)} already exists`, init);
    this.name = "SagaAlreadyExistsError";
  }
}

/** `update` targeted a saga that is not stored. */
export class SagaNotFoundError extends SagaStoreError {
  constructor(init: SagaStoreErrorInit) {
    super("saga.notFound", `${subject(init)} does not exist`, init);
    this.name = "SagaNotFoundError";
  }
}

/** A state (or a stored item) that cannot be written or read faithfully. */
export class InvalidStateError extends SagaStoreError {
  constructor(problem: string, init: SagaStoreErrorInit) {
    super("state.invalid", `${subject(init)}: invalid state: ${problem}`, init);
    this.name = "InvalidStateError";
  }
}

/** The item would exceed DynamoDB's 400 KB item limit. */
export class StateTooLargeError extends SagaStoreError {
  constructor(sizeBytes: number, limitBytes: number, init: SagaStoreErrorInit) {
    super(
      "state.tooLarge",
      `${subject(init)}: item is ${sizeBytes} bytes, over DynamoDB's limit of ${limitBytes} bytes`,
      { ...init, details: { sizeBytes, limitBytes } },
    );
    this.name = "StateTooLargeError";
  }
}

/** A saga name, saga id or correlation id that cannot be used in a key. */
export class InvalidKeyError extends SagaStoreError {
  constructor(problem: string, init: SagaStoreErrorInit) {
    super("key.invalid", `${subject(init)}: ${problem}`, init);
    this.name = "InvalidKeyError";
  }
}

/** A stored item that does not decode (written by something else, or tampered with). */
export class InvalidItemError extends SagaStoreError {
  constructor(report: string, init: SagaStoreErrorInit) {
    super("item.invalid", `${subject(init)}: stored item does not decode: ${report}`, {
      ...init,
      details: { ...init.details, report },
    });
    this.name = "InvalidItemError";
  }
}

/** A misconfigured store, table or pagination cursor. */
export class ConfigurationError extends SagaStoreError {
  constructor(code: "cursor.invalid" | "options.invalid" | "table.invalid", message: string) {
    super(code, message);
    this.name = "ConfigurationError";
  }
}

/** DynamoDB refused a request for a reason that retrying will not fix. */
export class DynamoDBRequestError extends SagaStoreError {
  constructor(operation: string, init: SagaStoreErrorInit) {
    const reason =
      init.cause instanceof Error
        ? `${init.cause.name}: ${init.cause.message}`
        : String(init.cause);
    super("request.failed", `${subject(init)}: ${operation} failed: ${reason}`, init);
    this.name = "DynamoDBRequestError";
  }
}
