/**
 * A `Send` decorator that counts requests and the capacity DynamoDB reports for them: the
 * injected `send` is the one place every request passes, so metering is a wrapper, not a
 * change to the store.
 */
import type { OutputOf, Send, StoreCommand } from "./request.js";

interface ConsumedCapacityShape {
  readonly ReadCapacityUnits?: number;
  readonly WriteCapacityUnits?: number;
  readonly CapacityUnits?: number;
}

/** Requests and capacity units seen so far, per command name and in total. */
export interface Meter {
  readonly requests: number;
  readonly readCapacityUnits: number;
  readonly writeCapacityUnits: number;
  readonly byCommand: Readonly<Record<string, { requests: number; rcu: number; wcu: number }>>;
}

/** A metered `send` and its running totals. */
export interface MeteredSend {
  readonly send: Send;
  /** A snapshot of the totals. */
  snapshot(): Meter;
  reset(): void;
}

const isWrite = (command: StoreCommand): boolean =>
  /^(Put|Update|Delete|TransactWrite|BatchWrite)/.test(command.constructor.name);

/** Read and write units of an answer; a bare `CapacityUnits` counts as the operation's kind. */
const units = (command: StoreCommand, out: unknown): { rcu: number; wcu: number } => {
  const consumed = (out as { ConsumedCapacity?: ConsumedCapacityShape | ConsumedCapacityShape[] })
    ?.ConsumedCapacity;
  const write = isWrite(command);
  let rcu = 0;
  let wcu = 0;
  for (const entry of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
    const split = entry.ReadCapacityUnits !== undefined || entry.WriteCapacityUnits !== undefined;
    rcu += split ? (entry.ReadCapacityUnits ?? 0) : write ? 0 : (entry.CapacityUnits ?? 0);
    wcu += split ? (entry.WriteCapacityUnits ?? 0) : write ? (entry.CapacityUnits ?? 0) : 0;
  }
  return { rcu, wcu };
};

/**
 * Wraps `send`: asks DynamoDB for `ReturnConsumedCapacity: "TOTAL"` on every command and
 * adds up requests and capacity units (also for failed requests, which are counted but
 * report no capacity).
 */
export const meterSend = (send: Send): MeteredSend => {
  let totals = { requests: 0, rcu: 0, wcu: 0 };
  let byCommand: Record<string, { requests: number; rcu: number; wcu: number }> = {};
  const metered = async <C extends StoreCommand>(command: C): Promise<OutputOf<C>> => {
    (command.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = "TOTAL";
    const name = command.constructor.name;
    const entry = (byCommand[name] ??= { requests: 0, rcu: 0, wcu: 0 });
    entry.requests++;
    totals.requests++;
    const out = (await send(command)) as OutputOf<C>;
    const { rcu, wcu } = units(command, out);
    entry.rcu += rcu;
    entry.wcu += wcu;
    totals.rcu += rcu;
    totals.wcu += wcu;
    return out;
  };
  return {
    send: metered,
    snapshot: () => ({
      requests: totals.requests,
      readCapacityUnits: totals.rcu,
      writeCapacityUnits: totals.wcu,
      byCommand: structuredClone(byCommand),
    }),
    reset: () => {
      totals = { requests: 0, rcu: 0, wcu: 0 };
      byCommand = {};
    },
  };
};
