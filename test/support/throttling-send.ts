/**
 * A `send` that throttles the way DynamoDB's partitions do: the partition-heat model's token
 * buckets (`bench/heat/model.ts`) run in process, in front of a real `send`. Each request is
 * charged, before it is sent, the units DynamoDB's rules give its items and index entries
 * (`bench/heat/trace.ts`); when a partition key it touches, of the table or of an index, has
 * no capacity left, the request is answered with DynamoDB's throttling error and never sent:
 *
 * - a single-item request or a batch: `ProvisionedThroughputExceededException` (or
 *   `ThrottlingException`), a client fault with HTTP status 400;
 * - a transaction: `TransactionCanceledException` whose reason is `ThrottlingError` for each
 *   action on a throttled partition and `None` for the others.
 *
 * Its clock is injectable: `steppingClock` advances with every request, so whether a key
 * throttles depends on how many requests were made, not on how fast the machine runs them.
 */
import type { TableLayout } from "../../src/layout";
import { commandName, type Send, type StoreCommand } from "../../src/request";
import {
  createGate,
  describeKey,
  heatKey,
  type GateTouch,
  type Throughput,
} from "../../bench/heat/model";
import {
  accessesOf,
  estimatedTouches,
  keySchemaOf,
  remember,
  type IndexNames,
  type ItemMemory,
} from "../../bench/heat/trace";

/** The error names DynamoDB throttles single requests with. */
export type ThrottlingErrorName = "ProvisionedThroughputExceededException" | "ThrottlingException";

/** Options of {@link throttlingSend}. */
export interface ThrottlingSendOptions {
  /** Units per second each partition key serves (of the table and of each index). */
  readonly limits: Throughput;
  /** Milliseconds. Default: `performance.now` (real time). */
  readonly clock?: () => number;
  /** The item layout of the table (index key attributes and projections). Default: the store's. */
  readonly layout?: TableLayout;
  readonly indexNames?: IndexNames;
  /** Name of the error of a throttled single request. Default `ProvisionedThroughputExceededException`. */
  readonly errorName?: ThrottlingErrorName;
}

/** What a throttling `send` did so far. */
export interface ThrottleCounts {
  requests: number;
  throttled: number;
  /** Throttled requests by DynamoDB operation (`UpdateItem`, `TransactWriteItems`, …). */
  readonly byCommand: Map<string, number>;
  /** Throttled requests by partition (`table SAGA#Order`, `GSI1 SAGA#Order`, …). */
  readonly byKey: Map<string, number>;
}

/** A throttling `send` and its counts. */
export interface ThrottlingSend {
  readonly send: Send;
  readonly counts: ThrottleCounts;
}

/**
 * A clock that moves `stepMs` forward each time it is read: with {@link throttlingSend}, each
 * request advances time by one step, whatever the machine's speed.
 */
export const steppingClock = (stepMs: number): (() => number) => {
  let now = 0;
  return () => (now += stepMs);
};

const bump = (counts: Map<string, number>, key: string) =>
  counts.set(key, (counts.get(key) ?? 0) + 1);

const clientFault = (name: string, message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), {
    name,
    $fault: "client",
    $metadata: { httpStatusCode: 400 },
    ...extra,
  });

/** The error DynamoDB answers a throttled request with. */
const throttled = (
  command: string,
  input: unknown,
  throttledActions: ReadonlySet<number>,
  where: string,
  errorName: ThrottlingErrorName,
): Error => {
  if (command === "TransactWriteItems") {
    const actions = (input as { TransactItems?: unknown[] }).TransactItems ?? [];
    const reasons = actions.map((_, i) =>
      throttledActions.has(i)
        ? { Code: "ThrottlingError", Message: `Throughput exceeded on ${where} (simulated)` }
        : { Code: "None" },
    );
    return clientFault(
      "TransactionCanceledException",
      `Transaction cancelled by throttling (simulated): ${reasons.map((r) => r.Code).join(", ")}`,
      { CancellationReasons: reasons },
    );
  }
  return clientFault(errorName, `Throughput exceeded on ${where} (simulated)`, {
    $retryable: { throttling: true },
  });
};

/**
 * Wraps `send` with per-partition token buckets of `options.limits` units per second (one
 * second of burst, as DynamoDB's per-partition limit allows; no split for heat).
 */
export const throttlingSend = (send: Send, options: ThrottlingSendOptions): ThrottlingSend => {
  const schema = keySchemaOf(options.layout, options.indexNames);
  const gate = createGate({ limits: options.limits });
  const clock = options.clock ?? (() => performance.now());
  const errorName = options.errorName ?? "ProvisionedThroughputExceededException";
  const memory: ItemMemory = new Map();
  const counts: ThrottleCounts = {
    requests: 0,
    throttled: 0,
    byCommand: new Map(),
    byKey: new Map(),
  };

  const throttlingSendFn: Send = async (command: StoreCommand) => {
    counts.requests++;
    const name = commandName(command);
    const accesses = accessesOf(name, command.input, schema, memory);
    const touches = estimatedTouches(schema, accesses).filter(
      (touch) => touch.partitionKey !== null,
    );
    const gated: GateTouch[] = touches.map((touch) => ({
      key: heatKey(touch),
      kind: touch.kind,
      units: touch.units,
      sortKey: touch.sortKey,
    }));
    const refused = gate.admit(clock() / 1000, gated);
    if (refused.length > 0) {
      counts.throttled++;
      bump(counts.byCommand, name);
      const where = refused.map((i) => {
        const { index, partitionKey } = describeKey(gated[i]!.key);
        return `${index ?? "table"} ${partitionKey}`;
      });
      for (const key of new Set(where)) bump(counts.byKey, key);
      const actions = new Set(refused.map((i) => touches[i]!.action));
      throw throttled(name, command.input, actions, [...new Set(where)].join(", "), errorName);
    }
    const output = await send(command);
    remember(memory, accesses, output);
    return output;
  };
  return { send: throttlingSendFn, counts };
};
