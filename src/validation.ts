/**
 * The application's own check of its saga state: an io-ts codec (the documented default) or
 * any Standard Schema validator (zod, valibot, arktype, …). Both become one outcome: the
 * validated value, or problems named by path, never by value.
 */
import type * as t from "io-ts";
import { decodeProblems, report, summarizeProblems, type DecodeProblem } from "./codecs.js";
import { describeType } from "./keys.js";

/** An application's io-ts codec for its saga state (decoding the in-memory value). */
export type StateCodec<TState> = t.Type<TState, unknown, unknown>;

/** One problem a Standard Schema validator reports. */
export interface StandardSchemaIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/** What a Standard Schema validator answers. */
export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardSchemaIssue> };

/**
 * The part of the Standard Schema interface (version 1, `~standard`) the store uses: what
 * zod, valibot and arktype schemas implement.
 */
export interface StandardSchemaLike<Output> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (
      value: unknown,
    ) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
  };
}

/** What `stateCodec` takes: an io-ts type or a Standard Schema validator of the state. */
export type StateValidator<TState> = StateCodec<TState> | StandardSchemaLike<TState>;

/** The validated value, or why it was refused. */
export type ValidationOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      /** Paths and types only: safe for messages. */
      readonly summary: string;
      /** Every problem, with the validator's own wording (which may quote values). */
      readonly report: string;
    };

/** Whether `value` is a Standard Schema validator. */
export const isStandardSchema = (value: unknown): value is StandardSchemaLike<unknown> => {
  const standard = (value as { "~standard"?: { validate?: unknown } } | null)?.["~standard"];
  return typeof standard?.validate === "function";
};

/** Whether `value` can serve as `stateCodec`. */
export const isStateValidator = (value: unknown): value is StateValidator<unknown> =>
  isStandardSchema(value) || typeof (value as { decode?: unknown } | null)?.decode === "function";

const formatPath = (root: string, path: StandardSchemaIssue["path"]): string => {
  let out = root;
  for (const segment of path ?? []) {
    const key = typeof segment === "object" ? segment.key : segment;
    out += typeof key === "number" ? `[${key}]` : `.${String(key)}`;
  }
  return out;
};

const valueAt = (root: unknown, path: StandardSchemaIssue["path"]): unknown => {
  let node = root;
  for (const segment of path ?? []) {
    const key = typeof segment === "object" ? segment.key : segment;
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
};

const fromIssues = <T>(
  issues: ReadonlyArray<StandardSchemaIssue>,
  value: unknown,
  root: string,
): ValidationOutcome<T> => {
  // A vendor's message may quote the value ("received 'ada@…'"): only the report keeps it.
  const problems: DecodeProblem[] = issues.map((issue) => ({
    path: formatPath(root, issue.path),
    expected: "what the schema accepts",
    found: describeType(valueAt(value, issue.path)),
  }));
  return {
    ok: false,
    summary: summarizeProblems(problems),
    report: issues.map((issue) => `${formatPath(root, issue.path)}: ${issue.message}`).join("; "),
  };
};

/**
 * Runs the application's validator on `value` (`root` names it in paths: `"state"`).
 * Synchronous for io-ts; a Standard Schema validator may answer with a promise.
 */
export const validateWith = <T>(
  validator: StateValidator<T>,
  value: unknown,
  root: string,
): ValidationOutcome<T> | Promise<ValidationOutcome<T>> => {
  if (isStandardSchema(validator)) {
    const settle = (result: StandardSchemaResult<T>): ValidationOutcome<T> =>
      result.issues === undefined
        ? { ok: true, value: result.value }
        : fromIssues<T>(result.issues, value, root);
    const result = validator["~standard"].validate(value);
    return result instanceof Promise ? result.then(settle) : settle(result);
  }
  const decoded = validator.decode(value);
  return decoded._tag === "Right"
    ? { ok: true, value: decoded.right }
    : {
        ok: false,
        summary: summarizeProblems(decodeProblems(decoded.left, root)),
        report: report(decoded, root),
      };
};
