/**
 * Requests and capacity units of each store operation on DynamoDB Local, in each
 * consistency mode, read from `ReturnConsumedCapacity` through `meterSend`.
 */
import { createDynamoDBSagaStore, type Consistency } from "../src";
import { onFreshTable } from "./local";
import { nextVersion, orderState } from "../test/support/states";

/** One operation's cost. */
export interface CapacityRow {
  readonly consistency: Consistency;
  readonly operation: string;
  readonly requests: number;
  readonly rcu: number;
  readonly wcu: number;
}

const tableName = "capacity-bench";

/** Measures every operation once per mode on a fresh table at `endpoint`. */
export const runCapacityBenchmark = (endpoint: string): Promise<CapacityRow[]> =>
  onFreshTable(endpoint, tableName, async (metered) => {
    const rows: CapacityRow[] = [];
    for (const consistency of ["strong", "eventual"] as const) {
      const store = createDynamoDBSagaStore({ send: metered.send, tableName, consistency });
      const state = orderState(`capacity-${consistency}`);
      const done = nextVersion(state, {}, { isCompleted: true });
      const steps: Array<[string, () => Promise<unknown>]> = [
        ["insert", () => store.insert("Capacity", state.orderId, state)],
        ["update", () => store.update("Capacity", nextVersion(state), 0)],
        ["getById", () => store.getById("Capacity", state.metadata.sagaId)],
        ["getByCorrelationId", () => store.getByCorrelationId("Capacity", state.orderId)],
        ["findByName (1 saga)", () => store.findByName("Capacity")],
        [
          "update (completes)",
          () =>
            store.update("Capacity", { ...done, metadata: { ...done.metadata, version: 2 } }, 1),
        ],
        ["delete", () => store.delete("Capacity", state.metadata.sagaId)],
      ];
      for (const [operation, run] of steps) {
        metered.reset();
        await run();
        const meter = metered.snapshot();
        rows.push({
          consistency,
          operation,
          requests: meter.requests,
          rcu: meter.readCapacityUnits,
          wcu: meter.writeCapacityUnits,
        });
      }
    }
    return rows;
  });
