/**
 * Typed errors. Every error the store raises on its own names the saga it concerns and
 * carries a stable, machine-readable `code`, so callers can narrow without matching text.
 */

/** Stable codes, grouped by a dotted prefix (`saga.`, `state.`, `key.`, …). */
export type SagaStoreErrorCode =
  | "saga.alreadyExists"
  | "state.invalid"
  | "state.tooLarge"
  | "key.invalid"
  | "item.invalid"
  | "cursor.invalid"
  | "options.invalid"
  | "table.invalid"
  | "table.unmigrated"
  | "request.failed";

/** What every typed store error shares. */
export interface SagaStoreErrorInit {
  readonly sagaName?: string;
  readonly sagaId?: string;
  readonly correlationId?: string;
  /** Extra facts (a size, a limit); enumerable, so keep them short and free of state values. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** The full account of what failed (every problem of a decode), kept off the message. */
  readonly report?: string;
  readonly cause?: unknown;
}

/**
 * `text` cut to at most `max` characters, the cut marked by an ellipsis. Messages end up in
 * logs and in saga-bus's dead-letter header, so nothing of unbounded length goes in whole.
 */
export const clip = (text: string, max: number): string => {
  if (text.length <= max) return text;
  let end = max - 1;
  // Never split a surrogate pair: half of one is not valid UTF-16.
  if (/[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end--;
  return text.slice(0, end) + "…";
};

/** Like `clip`, but keeps both ends (the start and the leaf of a long path). */
export const clipMiddle = (text: string, max: number): string => {
  if (text.length <= max) return text;
  let head = Math.ceil((max - 1) / 2);
  let tail = text.length - (max - 1 - head);
  if (/[\uD800-\uDBFF]/.test(text.charAt(head - 1))) head--;
  if (/[\uDC00-\uDFFF]/.test(text.charAt(tail))) tail++;
  return text.slice(0, head) + "…" + text.slice(tail);
};

/** Longest problem text in a message; the whole of a longer one goes to `report`. */
const MAX_PROBLEM = 240;
/** Longest saga name or id quoted in a message (the fields hold them whole). */
const MAX_QUOTED_KEY = 80;
/** Longest part of an AWS error message copied into ours. */
export const MAX_CAUSE_MESSAGE = 200;

/** Sets a property that serialisers and `util.inspect` skip by default. */
const hide = (target: object, key: string, value: unknown): void => {
  Object.defineProperty(target, key, { value, enumerable: false, writable: false });
};

/** Base class of the store's own errors; `code` says what went wrong. */
export class SagaStoreError extends Error {
  readonly code: SagaStoreErrorCode;
  readonly sagaName: string | undefined;
  readonly sagaId: string | undefined;
  readonly correlationId: string | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  /**
   * The full account of what failed, when the message had to be shortened (every problem
   * of a decode, with whole paths). Not enumerable, so `JSON.stringify(error)` and
   * `util.inspect(error)` leave it out; it names paths and types, never values.
   */
  declare readonly report?: string;

  constructor(code: SagaStoreErrorCode, message: string, init: SagaStoreErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "SagaStoreError";
    this.code = code;
    this.sagaName = init.sagaName;
    this.sagaId = init.sagaId;
    this.correlationId = init.correlationId;
    this.details = init.details;
    if (init.report !== undefined) hide(this, "report", init.report);
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

/** `saga "<name>" (id "<id>")`, each clipped: how messages name the saga. */
export const subject = (init: SagaStoreErrorInit): string =>
  `saga "${clip(init.sagaName ?? "?", MAX_QUOTED_KEY)}"` +
  (init.sagaId === undefined ? "" : ` (id "${clip(init.sagaId, MAX_QUOTED_KEY)}")`);

/** The init with the whole problem as `report` when the message carries only its start. */
const keepWhole = (problem: string, init: SagaStoreErrorInit): SagaStoreErrorInit =>
  init.report === undefined && problem.length > MAX_PROBLEM ? { ...init, report: problem } : init;

/** `insert` found a saga with the same id already stored. */
export class SagaAlreadyExistsError extends SagaStoreError {
  constructor(init: SagaStoreErrorInit) {
    super("saga.alreadyExists", `${subject(init)} already exists`, init);
    this.name = "SagaAlreadyExistsError";
  }
}

/**
 * A state (or a stored item) that cannot be written or read faithfully. `problem` names the
 * path and what was wrong, never a value; a long one is cut, and kept whole in `report`.
 */
export class InvalidStateError extends SagaStoreError {
  constructor(problem: string, init: SagaStoreErrorInit) {
    super(
      "state.invalid",
      `${subject(init)}: invalid state: ${clip(problem, MAX_PROBLEM)}`,
      keepWhole(problem, init),
    );
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

/**
 * A stored item that does not decode (written by something else, or tampered with).
 * `problem` is the short account for the message (a long one is cut); the full one is
 * `init.report`, or else `problem` itself, on the non-enumerable `report`.
 */
export class InvalidItemError extends SagaStoreError {
  constructor(problem: string, init: SagaStoreErrorInit) {
    const report = init.report ?? problem;
    // `details.report` is the older home of the report: kept, but hidden like `report`.
    const details: Record<string, unknown> = { ...init.details };
    hide(details, "report", report);
    super(
      "item.invalid",
      `${subject(init)}: stored item does not decode: ${clip(problem, MAX_PROBLEM)}`,
      {
        ...init,
        report,
        details,
      },
    );
    this.name = "InvalidItemError";
  }
}

/** A misconfigured store, table or pagination cursor. */
export class ConfigurationError extends SagaStoreError {
  constructor(
    code: "cursor.invalid" | "options.invalid" | "table.invalid",
    message: string,
    details?: Readonly<Record<string, unknown>>,
  ) {
    super(code, message, details === undefined ? {} : { details });
    this.name = "ConfigurationError";
  }
}

/** A table laid out with `recorded` shards per saga name, asked to serve `wanted`. */
export const layoutMismatch = (
  tableName: string,
  recorded: number,
  wanted: number,
): ConfigurationError =>
  new ConfigurationError(
    "table.invalid",
    `table ${tableName} is laid out with shards: ${recorded}, not ${wanted}; give the store ` +
      "the table's count (changing it is a migration: docs/scale.md)",
  );

/**
 * The table still holds sagas of this name in the layout of `@saga-bus/store-dynamodb` 0.2.x,
 * which this version cannot see: answering "no saga" would make saga-bus start a second one.
 */
export class UnmigratedTableError extends SagaStoreError {
  /** The table to migrate. */
  readonly tableName: string;

  constructor(tableName: string, init: SagaStoreErrorInit) {
    super(
      "table.unmigrated",
      `${subject(init)}: table ${tableName} still holds sagas of this name written by ` +
        `@saga-bus/store-dynamodb 0.2.x; run \`saga-store-dynamodb migrate --table ${tableName}\` ` +
        "before this version handles them (see docs/migration.md)",
      init,
    );
    this.name = "UnmigratedTableError";
    this.tableName = tableName;
  }
}

/** DynamoDB refused a request for a reason that retrying will not fix. */
export class DynamoDBRequestError extends SagaStoreError {
  constructor(operation: string, init: SagaStoreErrorInit) {
    // AWS messages can quote the request (and so state values); the whole one stays on `cause`.
    const reason =
      init.cause instanceof Error
        ? `${init.cause.name}: ${init.cause.message}`
        : String(init.cause);
    super(
      "request.failed",
      `${subject(init)}: ${operation} failed: ${clip(reason, MAX_CAUSE_MESSAGE)}`,
      init,
    );
    this.name = "DynamoDBRequestError";
  }
}
