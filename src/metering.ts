/**
 * Counting requests and the capacity DynamoDB reports for them, built on the request seam:
 * `createRequestMeter` is a `RequestObserver` (totals per store operation and per DynamoDB
 * command), and `meterSend` the same accounting as a `Send` decorator, for code that has a
 * `send` but no store (benchmarks, the migration).
 */
import {
  observed,
  type OutputOf,
  type RequestObserver,
  type Send,
  type StoreCommand,
} from "./request.js";

interface ConsumedCapacityShape {
  readonly ReadCapacityUnits?: number;
  readonly WriteCapacityUnits?: number;
  readonly CapacityUnits?: number;
}

/** Requests and capacity units of one group of requests. */
export interface MeterEntry {
  requests: number;
  rcu: number;
  wcu: number;
}

/** Requests and capacity units seen so far, in total, per DynamoDB command and per operation. */
export interface Meter {
  readonly requests: number;
  readonly readCapacityUnits: number;
  readonly writeCapacityUnits: number;
  /** By DynamoDB command: `GetItem`, `UpdateItem`, `TransactWriteItems`, … */
  readonly byCommand: Readonly<Record<string, MeterEntry>>;
  /** By store operation: `insert`, `update`, `getByCorrelationId`, … */
  readonly byOperation: Readonly<Record<string, MeterEntry>>;
}

const WRITES = new Set([
  "UpdateItem",
  "TransactWriteItems",
  "BatchExecuteStatement",
  "PutItem",
  "DeleteItem",
]);

/** Read and write units of an answer; a bare `CapacityUnits` counts as the command's kind. */
const units = (command: string, out: unknown): { rcu: number; wcu: number } => {
  const consumed = (out as { ConsumedCapacity?: ConsumedCapacityShape | ConsumedCapacityShape[] })
    ?.ConsumedCapacity;
  const write = WRITES.has(command);
  let rcu = 0;
  let wcu = 0;
  for (const entry of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
    const split = entry.ReadCapacityUnits !== undefined || entry.WriteCapacityUnits !== undefined;
    rcu += split ? (entry.ReadCapacityUnits ?? 0) : write ? 0 : (entry.CapacityUnits ?? 0);
    wcu += split ? (entry.WriteCapacityUnits ?? 0) : write ? (entry.CapacityUnits ?? 0) : 0;
  }
  return { rcu, wcu };
};

/** A request meter: an observer for a store's `onRequest`, and its running totals. */
export interface RequestMeter {
  readonly observer: RequestObserver;
  /** A snapshot of the totals. */
  snapshot(): Meter;
  reset(): void;
}

/**
 * A meter to hand a store as `onRequest`: it asks DynamoDB for `ReturnConsumedCapacity:
 * "TOTAL"` and adds up requests and capacity units per command and per store operation
 * (failed requests are counted but report no capacity).
 */
export const createRequestMeter = (): RequestMeter => {
  let totals: MeterEntry = { requests: 0, rcu: 0, wcu: 0 };
  let byCommand: Record<string, MeterEntry> = {};
  let byOperation: Record<string, MeterEntry> = {};
  const observer: RequestObserver = {
    consumedCapacity: true,
    onRequest: ({ context, command }) => {
      const entries = [
        totals,
        (byCommand[command] ??= { requests: 0, rcu: 0, wcu: 0 }),
        (byOperation[context.operation] ??= { requests: 0, rcu: 0, wcu: 0 }),
      ];
      for (const entry of entries) entry.requests++;
      return (end) => {
        if (!end.ok) return;
        const { rcu, wcu } = units(command, end.output);
        for (const entry of entries) {
          entry.rcu += rcu;
          entry.wcu += wcu;
        }
      };
    },
  };
  return {
    observer,
    snapshot: () => ({
      requests: totals.requests,
      readCapacityUnits: totals.rcu,
      writeCapacityUnits: totals.wcu,
      byCommand: structuredClone(byCommand),
      byOperation: structuredClone(byOperation),
    }),
    reset: () => {
      totals = { requests: 0, rcu: 0, wcu: 0 };
      byCommand = {};
      byOperation = {};
    },
  };
};

/** A metered `send` and its running totals. */
export interface MeteredSend {
  readonly send: Send;
  /** A snapshot of the totals (`byOperation` holds everything under `"send"`). */
  snapshot(): Meter;
  reset(): void;
}

/**
 * Wraps `send` with a request meter, for code without a store. With a store, prefer
 * `createRequestMeter`, which also knows each request's operation.
 */
export const meterSend = (send: Send): MeteredSend => {
  const meter = createRequestMeter();
  const metered = <C extends StoreCommand>(command: C): Promise<OutputOf<C>> =>
    observed(meter.observer, { operation: "send" }, command, () => send(command)) as Promise<
      OutputOf<C>
    >;
  return { send: metered, snapshot: meter.snapshot, reset: meter.reset };
};
