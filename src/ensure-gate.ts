/**
 * The store's opt-in ensure step, as a decorator of `perform`: before the first request the
 * table is made ready, once per store (concurrent first requests share one run; a failed run
 * is tried again by the next request). Its control-plane requests pass the store's observer
 * with the context of the operation that triggered them.
 *
 * The step itself (`ensureTableFirst`, in table.ts) is handed in by the application, so a store
 * that does not opt in never loads the control-plane code: it stays out of bundles.
 */
import type { RetryableErrorClasses } from "./core-link.js";
import type { TableNames } from "./commands.js";
import { subject } from "./errors.js";
import { toStoreError } from "./failures.js";
import { observed, type Perform, type RequestContext, type RequestObserver } from "./request.js";
import type { TableClient } from "./table.js";
import type { Timing } from "./timing.js";

/** What the store hands its ensure step when the step runs. */
export interface EnsureRequest {
  /** The store's table, index names and layout. */
  readonly table: TableNames;
  /** The store's waits (tests inject their own). */
  readonly timing: Timing;
  /** `client`, with every request it sends seen by the store's `onRequest` observer. */
  readonly observe: (client: TableClient) => TableClient;
}

/**
 * What the store runs once before its first request; build it with `ensureTableFirst`.
 * Resolves when the table serves the store, rejects (with any error) when it cannot.
 */
export type EnsureStep = (request: EnsureRequest) => Promise<unknown>;

/** A control-plane client whose every request is seen by `observer`, with `context`. */
export const observedTableClient = (
  client: TableClient,
  observer: RequestObserver | undefined,
  context: RequestContext,
): TableClient =>
  observer === undefined
    ? client
    : { send: (command) => observed(observer, context, command, () => client.send(command)) };

/**
 * The failures of the step: the operation's own request was never sent. Kept aside, not
 * written onto the errors, which may be frozen.
 */
const stepFailures = new WeakSet<object>();

/** Whether `error` came from the ensure step, before the operation sent anything. */
export const isEnsureStepFailure = (error: unknown): boolean =>
  typeof error === "object" && error !== null && stepFailures.has(error);

const marked = (error: Error): Error => {
  stepFailures.add(error);
  return error;
};

/** Whether `error` is a table wait that ran out of time (`table.invalid`, `details.timedOut`). */
const isWaitTimeout = (error: unknown): error is Error => {
  const { code, details } = (error ?? {}) as { code?: unknown; details?: { timedOut?: unknown } };
  return error instanceof Error && code === "table.invalid" && details?.timedOut === true;
};

/** `perform`, preceded once by `step`. */
export const ensuringTable = (
  perform: Perform,
  step: EnsureStep,
  request: Omit<EnsureRequest, "observe">,
  classes: Promise<RetryableErrorClasses>,
  observer: RequestObserver | undefined,
): Perform => {
  let ensuring: Promise<unknown> | undefined;
  return async (context, command, recover) => {
    const ensureContext = { ...context, operation: "ensureTable" };
    const observe = (client: TableClient) => observedTableClient(client, observer, ensureContext);
    ensuring ??= step({ ...request, observe }).catch(async (error: unknown) => {
      ensuring = undefined;
      const { TransientError } = await classes;
      // A table or index still being built by someone else: the next delivery may find it done.
      // (By shape: the step may come from another copy of this package, CommonJS or ESM.)
      if (isWaitTimeout(error)) {
        throw marked(
          new TransientError(
            `ensureTable of ${subject(context)} failed and may succeed on retry: ${error.message}`,
            error,
          ),
        );
      }
      // Part of the operation: typed like its own failures (a throttled DescribeTable is a
      // TransientError, not a raw AWS error).
      throw marked(toStoreError(error, "ensureTable", context, await classes));
    });
    await ensuring;
    return perform(context, command, recover);
  };
};
