/**
 * Capacity of one saga's lifecycle as saga-bus drives a store: insert, then three times a
 * strongly consistent lookup and an update, the last one completing the saga. Measured on
 * DynamoDB Local with `ReturnConsumedCapacity: TOTAL` (table and indexes), at several state
 * sizes.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import {
  createDynamoDBSagaStore,
  createTable,
  deleteTable,
  meterSend,
  sendVia,
  type Consistency,
  type SagaState,
} from "../src";
import { LOCAL_CLIENT_CONFIG } from "../scripts/dynamodb-local";
import { insertInput } from "../src/commands";
import { encodeState } from "../src/marshal";
import { itemSize } from "../src/size";
import { loadSeed022 } from "../test/support/seed-022";
import { nextVersion, orderState } from "../test/support/states";

/** The capacity of each step of one lifecycle. */
export interface LifecycleRow {
  readonly stateKiB: number;
  readonly consistency: Consistency;
  readonly insertWcu: number;
  readonly lookupRcu: number;
  readonly updateWcu: number;
  readonly completingWcu: number;
  readonly totalWcu: number;
  readonly totalRcu: number;
  readonly requests: number;
}

/**
 * A state whose saga item stays under `kib` KiB at its largest, completed (with its
 * completion attributes and `writeId`, for which 192 bytes are left): "a 1 KB state" as
 * DynamoDB bills it, one write unit per KiB.
 */
const sized = (kib: number, id: string): SagaState & { readonly padding: string } => {
  const base = { ...orderState(id), padding: "" };
  const itemOf = (state: SagaState) =>
    itemSize(
      insertInput(TABLE_NAMES, "Lifecycle", id, encodeState(state, {}, undefined))
        .TransactItems![0]!.Put!.Item!,
    );
  return { ...base, padding: "x".repeat(Math.max(0, kib * 1024 - 192 - itemOf(base))) };
};

const TABLE_NAMES = {
  tableName: "lifecycle-bench",
  correlationIndexName: "GSI1",
  cleanupIndexName: "GSI2",
};

/** Runs one lifecycle per size and mode on a fresh table at `endpoint`. */
export const runLifecycleBenchmark = async (
  endpoint: string,
  sizes: readonly number[] = [1, 4, 16],
): Promise<LifecycleRow[]> => {
  const client = new DynamoDBClient({ ...LOCAL_CLIENT_CONFIG, endpoint });
  const { tableName } = TABLE_NAMES;
  const rows: LifecycleRow[] = [];
  try {
    await createTable(client, { tableName });
    const metered = meterSend(sendVia(DynamoDBDocumentClient.from(client)));
    for (const consistency of ["strong", "eventual"] as const) {
      const store = createDynamoDBSagaStore<SagaState>({
        send: metered.send,
        tableName,
        consistency,
      });
      for (const kib of sizes) {
        const id = `lifecycle-${consistency}-${kib}`;
        let state: SagaState = sized(kib, id);
        const step = async (run: () => Promise<unknown>) => {
          metered.reset();
          await run();
          return metered.snapshot();
        };
        const insert = await step(() => store.insert("Lifecycle", id, state));
        const lookups: number[] = [];
        const updates: number[] = [];
        let requests = insert.requests;
        for (let i = 0; i < 3; i++) {
          const lookup = await step(() => store.getByCorrelationId("Lifecycle", id));
          lookups.push(lookup.readCapacityUnits);
          const next = nextVersion(state, {}, { isCompleted: i === 2 });
          const update = await step(() => store.update("Lifecycle", next, state.metadata.version));
          updates.push(update.writeCapacityUnits);
          requests += lookup.requests + update.requests;
          state = next;
        }
        rows.push({
          stateKiB: kib,
          consistency,
          insertWcu: insert.writeCapacityUnits,
          lookupRcu: lookups[0]!,
          updateWcu: updates[0]!,
          completingWcu: updates[2]!,
          totalWcu: insert.writeCapacityUnits + updates.reduce((a, b) => a + b, 0),
          totalRcu: lookups.reduce((a, b) => a + b, 0),
          requests,
        });
      }
    }
    await deleteTable(client, tableName);
  } finally {
    client.destroy();
  }
  return rows;
};

/** The lifecycle's capacity with the published 0.2.2, measured the same way. */
export interface SeedLifecycleRow {
  readonly stateKiB: number;
  readonly insertWcu: number;
  readonly lookupRcu: number;
  readonly updateWcu: number;
  readonly completingWcu: number;
  readonly totalWcu: number;
  readonly totalRcu: number;
}

/**
 * The same lifecycle with 0.2.2's own code (its packed `dist`, loaded with the stand-in core;
 * `npm pack` fetches it the first time) on a table made by its own `createTable`.
 */
export const runSeedLifecycleBenchmark = async (
  endpoint: string,
  sizes: readonly number[] = [1, 4, 16],
): Promise<SeedLifecycleRow[]> => {
  const seed = loadSeed022();
  const client = new DynamoDBClient({ ...LOCAL_CLIENT_CONFIG, endpoint });
  const tableName = "lifecycle-bench-seed";
  const rows: SeedLifecycleRow[] = [];
  try {
    await seed.createTable(client, seed.getTableSchema(tableName));
    const metered = meterSend(sendVia(DynamoDBDocumentClient.from(client)));
    const store = new seed.DynamoDBSagaStore({
      client: { send: metered.send } as unknown as DynamoDBDocumentClient,
      tableName,
    });
    for (const kib of sizes) {
      const id = `seed-lifecycle-${kib}`;
      let state: SagaState = sized(kib, id);
      const step = async (run: () => Promise<unknown>) => {
        metered.reset();
        await run();
        return metered.snapshot();
      };
      const insert = await step(() => store.insert("Lifecycle", id, state));
      const lookups: number[] = [];
      const updates: number[] = [];
      for (let i = 0; i < 3; i++) {
        lookups.push(
          (await step(() => store.getByCorrelationId("Lifecycle", id))).readCapacityUnits,
        );
        const next = nextVersion(state, {}, { isCompleted: i === 2 });
        const version = state.metadata.version;
        updates.push(
          (await step(() => store.update("Lifecycle", next, version))).writeCapacityUnits,
        );
        state = next;
      }
      rows.push({
        stateKiB: kib,
        insertWcu: insert.writeCapacityUnits,
        lookupRcu: lookups[0]!,
        updateWcu: updates[0]!,
        completingWcu: updates[2]!,
        totalWcu: insert.writeCapacityUnits + updates.reduce((a, b) => a + b, 0),
        totalRcu: lookups.reduce((a, b) => a + b, 0),
      });
    }
    await seed.deleteTable(client, tableName);
  } finally {
    client.destroy();
  }
  return rows;
};

/**
 * The least a lifecycle can cost with this store's guarantees, by DynamoDB's rules, for an
 * item of `kib` KiB: the insert transaction writes the saga, its correlation item and the
 * saga's correlation index entry, each counted twice (2·kib + 2 + 2); each update writes the
 * item once (kib); the completing one adds the cleanup index entry (1).
 */
export const floorWcu = (kib: number): number => 2 * kib + 4 + 2 * kib + (kib + 1);
