/**
 * The store's opt-in `ensureTable`, as a decorator of `perform`: before the first request the
 * table is made ready, once per store (concurrent first requests share one run; a failed run
 * is tried again by the next request). Its control-plane requests pass the store's observer
 * with the context of the operation that triggered them.
 */
import type { RetryableErrorClasses } from "./core-link.js";
import { toStoreError } from "./failures.js";
import { observed, type Perform, type RequestContext, type RequestObserver } from "./request.js";
import { ensureTable, type CreateTableOptions, type TableClient } from "./table.js";

/** A control-plane client whose every request is seen by `observer`, with `context`. */
export const observedTableClient = (
  client: TableClient,
  observer: RequestObserver | undefined,
  context: RequestContext,
): TableClient =>
  observer === undefined
    ? client
    : { send: (command) => observed(observer, context, command, () => client.send(command)) };

/** `perform`, preceded once by `ensureTable(client, options)`. */
export const ensuringTable = (
  perform: Perform,
  client: TableClient,
  options: CreateTableOptions,
  classes: Promise<RetryableErrorClasses>,
  observer: RequestObserver | undefined,
): Perform => {
  let ensuring: Promise<unknown> | undefined;
  return async (context, command, recover) => {
    const ensureContext = { ...context, operation: "ensureTable" };
    ensuring ??= ensureTable(observedTableClient(client, observer, ensureContext), options).catch(
      async (error: unknown) => {
        ensuring = undefined;
        // Part of the operation: typed like its own failures (a throttled DescribeTable is a
        // TransientError, not a raw AWS error).
        throw toStoreError(error, "ensureTable", context, await classes);
      },
    );
    await ensuring;
    return perform(context, command, recover);
  };
};
