/**
 * Capacity of one saga's lifecycle as saga-bus drives a store: insert, then three times a
 * strongly consistent lookup and an update, the last one completing the saga. Measured on
 * DynamoDB Local with `ReturnConsumedCapacity: TOTAL` (table and indexes), at several state
 * sizes.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import {
  createDynamoDBSagaStore,
  type Consistency,
  type MeteredSend,
  type SagaState,
} from "../src";
import { insertInput } from "../src/commands";
import { encodeState } from "../src/marshal";
import { itemSize } from "../src/size";
import { meteredSend, onFreshTable, withLocalClient } from "./local";
import { loadSeed022, type Seed022Store } from "../test/support/seed-022";
import { nextVersion, orderState } from "../test/support/states";

/** The capacity of each step of one lifecycle. */
interface LifecycleCost {
  readonly insertWcu: number;
  readonly lookupRcu: number;
  readonly updateWcu: number;
  readonly completingWcu: number;
  readonly totalWcu: number;
  readonly totalRcu: number;
}

/** The lifecycle's capacity with this store, in one consistency mode. */
export interface LifecycleRow extends LifecycleCost {
  readonly stateKiB: number;
  readonly consistency: Consistency;
  readonly requests: number;
}

/** The lifecycle's capacity with the published 0.2.2, measured the same way. */
export interface SeedLifecycleRow extends LifecycleCost {
  readonly stateKiB: number;
}

/**
 * Bytes a completed saga item holds beyond its inserted one: the completion attributes and
 * the four write ids (243 bytes for this saga), with a little to spare.
 */
const GROWTH = 256;

/**
 * A state whose saga item stays under `kib` KiB at its largest, completed: "a 1 KB state" as
 * DynamoDB bills it, one write unit per KiB.
 */
const sized = (kib: number, id: string): SagaState & { readonly padding: string } => {
  const base = { ...orderState(id), padding: "" };
  const itemOf = (state: SagaState) =>
    itemSize(
      insertInput(TABLE_NAMES, "Lifecycle", id, encodeState(state, {}, undefined))
        .TransactItems![0]!.Put!.Item!,
    );
  return { ...base, padding: "x".repeat(Math.max(0, kib * 1024 - GROWTH - itemOf(base))) };
};

const TABLE_NAMES = {
  tableName: "lifecycle-bench",
  correlationIndexName: "GSI1",
  cleanupIndexName: "GSI2",
};

/** The calls of one lifecycle, which this store and 0.2.2's take alike. */
type LifecycleStore = Pick<Seed022Store, "insert" | "getByCorrelationId" | "update">;

/**
 * Runs one lifecycle of a `kib` KiB state with `store`: insert, then three times a lookup and
 * an update, the last one completing the saga. Each step is measured alone through `metered`.
 */
const measureLifecycle = async (
  store: LifecycleStore,
  metered: MeteredSend,
  id: string,
  kib: number,
): Promise<{ readonly cost: LifecycleCost; readonly requests: number }> => {
  const step = async (run: () => Promise<unknown>) => {
    metered.reset();
    await run();
    return metered.snapshot();
  };
  let state: SagaState = sized(kib, id);
  const insert = await step(() => store.insert("Lifecycle", id, state));
  const lookups: number[] = [];
  const updates: number[] = [];
  let requests = insert.requests;
  for (let i = 0; i < 3; i++) {
    const lookup = await step(() => store.getByCorrelationId("Lifecycle", id));
    lookups.push(lookup.readCapacityUnits);
    const next = nextVersion(state, {}, { isCompleted: i === 2 });
    const version = state.metadata.version;
    const update = await step(() => store.update("Lifecycle", next, version));
    updates.push(update.writeCapacityUnits);
    requests += lookup.requests + update.requests;
    state = next;
  }
  const cost = {
    insertWcu: insert.writeCapacityUnits,
    lookupRcu: lookups[0]!,
    updateWcu: updates[0]!,
    completingWcu: updates[2]!,
    totalWcu: insert.writeCapacityUnits + updates.reduce((a, b) => a + b, 0),
    totalRcu: lookups.reduce((a, b) => a + b, 0),
  };
  return { cost, requests };
};

/** Runs one lifecycle per size and mode on a fresh table at `endpoint`. */
export const runLifecycleBenchmark = (
  endpoint: string,
  sizes: readonly number[] = [1, 4, 16],
): Promise<LifecycleRow[]> =>
  onFreshTable(endpoint, TABLE_NAMES.tableName, async (metered) => {
    const rows: LifecycleRow[] = [];
    for (const consistency of ["strong", "eventual"] as const) {
      const store = createDynamoDBSagaStore<SagaState>({
        send: metered.send,
        tableName: TABLE_NAMES.tableName,
        consistency,
      });
      for (const kib of sizes) {
        const { cost, requests } = await measureLifecycle(
          store,
          metered,
          `lifecycle-${consistency}-${kib}`,
          kib,
        );
        rows.push({ stateKiB: kib, consistency, ...cost, requests });
      }
    }
    return rows;
  });

/**
 * The same lifecycle with 0.2.2's own code (its packed `dist`, loaded with the stand-in core;
 * `npm pack` fetches it the first time) on a table made by its own `createTable`.
 */
export const runSeedLifecycleBenchmark = async (
  endpoint: string,
  sizes: readonly number[] = [1, 4, 16],
): Promise<SeedLifecycleRow[]> => {
  const seed = loadSeed022();
  const tableName = "lifecycle-bench-seed";
  return withLocalClient(endpoint, async (client) => {
    await seed.createTable(client, seed.getTableSchema(tableName));
    const metered = meteredSend(client);
    const store = new seed.DynamoDBSagaStore({
      client: { send: metered.send } as unknown as DynamoDBDocumentClient,
      tableName,
    });
    const rows: SeedLifecycleRow[] = [];
    for (const kib of sizes) {
      const { cost } = await measureLifecycle(store, metered, `seed-lifecycle-${kib}`, kib);
      rows.push({ stateKiB: kib, ...cost });
    }
    await seed.deleteTable(client, tableName);
    return rows;
  });
};

/**
 * The least a lifecycle can cost with this store's guarantees, by DynamoDB's rules, for an
 * item of `kib` KiB: the insert transaction writes the saga, its correlation item and the
 * saga's correlation index entry, each counted twice (2·kib + 2 + 2); each update writes the
 * item once (kib); the completing one adds the cleanup index entry (1).
 */
export const floorWcu = (kib: number): number => 2 * kib + 4 + 2 * kib + (kib + 1);
