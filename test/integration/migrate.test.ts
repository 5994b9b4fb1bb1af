/**
 * Upgrading a table that the published 0.2.2 wrote (its own code, loaded from its packed
 * `dist`, test/support/seed-022.ts): `migrate` through the built CLI, then today's store drives
 * every saga on through the saga-bus-like loop. Also: interrupted runs, runs beside other
 * writers, dry runs, and the throughput of a run.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ScanCommand as RawScanCommand } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import {
  createDynamoDBSagaStore,
  migrateTable,
  sendVia,
  type DynamoDBSagaStoreFunctions,
  type MigrateSummary,
  type SagaStateMetadata,
  type Send,
} from "../../src";
import { decodeSagaItem, encodeState } from "../../src/internals";
import {
  DEFAULT_INDEX_NAMES,
  getCorrelationInput,
  getSagaInput,
  insertInput,
  type TableNames,
} from "../../src/commands";
import { runMessageLoop, type LoopSagaDefinition } from "../../workload/message-loop";
import { localEndpoint, ownTables } from "../support/local-table";
import { loadSeed022, type Seed022, type Seed022Store } from "../support/seed-022";
import { orderState, type OrderState } from "../support/states";

const ROOT = join(__dirname, "..", "..");
const BIN = join(ROOT, "dist", "cjs", "cli", "main.js");
const NAME = "OrderSaga";
const DAY_MS = 86_400_000;

let seed: Seed022;
const { client, docClient, newTableName } = ownTables();

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error("dist/ is missing: run npm run build first");
  seed = loadSeed022();
});

// ---------------------------------------------------------------------------------------------
// Helpers

/** A table made the way 0.2.2's own tests made theirs. */
const legacyTable = async (): Promise<string> => {
  const name = newTableName("legacy");
  await seed.createTable(client, seed.getTableSchema(name));
  return name;
};

/** How far a saga got under 0.2.2. */
type Stage = "started" | "advanced" | "completed";

/** A saga written by 0.2.2, and the state it last wrote (what today's store must give back). */
interface LegacySaga {
  readonly correlationId: string;
  readonly stage: Stage;
  readonly state: OrderState;
}

const STAGES: readonly Stage[] = ["started", "advanced", "completed"];

/** The metadata of the i-th saga: some carry the optional fields, some do not. */
const metadataOf = (i: number, createdAt: Date): SagaStateMetadata => ({
  sagaId: randomUUID(),
  version: 0,
  createdAt,
  updatedAt: createdAt,
  isCompleted: false,
  ...(i % 2 === 0
    ? {
        traceParent: `00-${"ab".repeat(16)}-${"cd".repeat(8)}-01`,
        traceState: null,
        timeoutMs: 60_000,
        timeoutExpiresAt: new Date(createdAt.getTime() + 60_000),
        archivedAt: null,
      }
    : {}),
});

/** The next state, as the saga-bus runtime passes it to `update`. */
const advance = (
  state: OrderState,
  changes: Partial<OrderState>,
  at: Date,
  isCompleted = false,
): OrderState => ({
  ...state,
  ...changes,
  metadata: { ...state.metadata, version: state.metadata.version + 1, updatedAt: at, isCompleted },
});

/**
 * Writes one saga with 0.2.2 the way saga-bus drives a store: insert at version 0 and at
 * once an update to 1 (started); two more updates (advanced); one more that completes it,
 * three days ago (completed).
 */
const writeLegacySaga = async (
  store: Seed022Store,
  correlationId: string,
  i: number,
  stage: Stage,
): Promise<LegacySaga> => {
  const start = new Date(Date.now() - 5 * DAY_MS + i);
  let state = orderState(correlationId, metadataOf(i, start));
  await store.insert(NAME, correlationId, state);
  const steps: Array<[Partial<OrderState>, Date, boolean]> = [
    [{ status: "placed", applied: ["m-start"] }, new Date(start.getTime() + 1000), false],
  ];
  if (stage !== "started") {
    steps.push(
      [{ status: "paid", applied: ["m-start", "m-paid"] }, new Date(start.getTime() + 2000), false],
      [
        { status: "packed", applied: ["m-start", "m-paid", "m-packed"] },
        new Date(start.getTime() + 3000),
        false,
      ],
    );
  }
  if (stage === "completed") {
    steps.push([{ status: "shipped" }, new Date(Date.now() - 3 * DAY_MS + i), true]);
  }
  for (const [changes, at, completes] of steps) {
    const next = advance(state, changes, at, completes);
    await store.update(NAME, next, state.metadata.version);
    state = next;
  }
  return { correlationId, stage, state };
};

/** Writes `count` sagas with 0.2.2, `concurrency` at a time, the stages in turn. */
const writeLegacySagas = async (
  tableName: string,
  count: number,
  concurrency = 16,
): Promise<LegacySaga[]> => {
  const store = new seed.DynamoDBSagaStore({ client: docClient, tableName });
  const sagas: LegacySaga[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      sagas[i] = await writeLegacySaga(store, `order-${i}`, i, STAGES[i % STAGES.length]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return sagas;
};

/** Every item of a table, raw attribute values, in key order: to compare byte for byte. */
const snapshot = async (tableName: string): Promise<string> => {
  const items: Array<Record<string, unknown>> = [];
  let startKey: Record<string, never> | undefined;
  do {
    const page = await client.send(
      new RawScanCommand({
        TableName: tableName,
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (startKey !== undefined);
  const key = (item: Record<string, unknown>) => JSON.stringify([item.PK, item.SK]);
  return JSON.stringify(items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)));
};

/** How many 0.2.2 items (a map `state`) a table still holds. */
const legacyCount = async (tableName: string): Promise<number> => {
  const items = JSON.parse(await snapshot(tableName)) as Array<{ state?: { M?: unknown } }>;
  return items.filter((item) => item.state?.M !== undefined).length;
};

/** What one run of the built CLI did. */
interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node dist/cjs/cli/main.js` against DynamoDB Local. */
const cli = (args: readonly string[]): Promise<Outcome> => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    NODE_OPTIONS: "--no-warnings",
  };
  delete env.SAGA_TABLE;
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, "--endpoint", localEndpoint(), "--region", "local", ...args],
      { env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        done({
          code: error === null ? 0 : typeof error.code === "number" ? error.code : -1,
          stdout,
          stderr,
        }),
    );
  });
};

const storeOn = (tableName: string): DynamoDBSagaStoreFunctions<OrderState> =>
  createDynamoDBSagaStore<OrderState>({ send: sendVia(docClient), tableName });

const migrate = (tableName: string, send: Send = sendVia(docClient)): Promise<MigrateSummary> =>
  migrateTable({ send, tableName });

const namesOf = (tableName: string): TableNames => ({ tableName, ...DEFAULT_INDEX_NAMES });

/**
 * Writes a saga in today's layout with the store's own builder, as `insert` does. (Not
 * through the store: a store may refuse to work on a table that still holds 0.2.2 items.)
 */
const writeToday = async (
  tableName: string,
  correlationId: string,
  state: OrderState,
): Promise<void> => {
  const encoded = encodeState(state, { sagaName: NAME }, undefined);
  await docClient.send(
    new TransactWriteCommand(insertInput(namesOf(tableName), NAME, correlationId, encoded)),
  );
};

/** Today's saga of a correlation id, read the way the store's strong lookup reads it. */
const findToday = async (tableName: string, correlationId: string): Promise<OrderState | null> => {
  const names = namesOf(tableName);
  const reservation = await docClient.send(
    new GetCommand(getCorrelationInput(names, NAME, correlationId)),
  );
  const sagaId = reservation.Item?.sagaId as string | undefined;
  if (sagaId === undefined) return null;
  const saga = await docClient.send(new GetCommand(getSagaInput(names, NAME, sagaId, true)));
  return saga.Item === undefined
    ? null
    : decodeSagaItem<OrderState>(saga.Item, { sagaName: NAME }, undefined).state;
};

// ---------------------------------------------------------------------------------------------

describe("a table written by 0.2.2, migrated through the built CLI", () => {
  let tableName: string;
  let sagas: LegacySaga[];
  let migrated: Outcome;

  beforeAll(async () => {
    tableName = await legacyTable();
    sagas = await writeLegacySagas(tableName, 30);
    // A saga name today's store refuses: reported, left as it is.
    await new seed.DynamoDBSagaStore({ client: docClient, tableName }).insert(
      "Bad#Saga",
      "order-x",
      orderState("order-x"),
    );
    migrated = await cli(["--table", tableName, "migrate"]);
  }, 120_000);

  // A name the store refuses is never looked up: its skipped saga blocks nothing (exit 0).
  it("exits 0 and prints what it converted, skipped and why", () => {
    expect(migrated).toMatchObject({ code: 0, stderr: "" });
    expect(migrated.stdout).toMatch(
      new RegExp(
        `^migrated table ${tableName}: 30 sagas converted, 0 already migrated, 1 skipped ` +
          `\\(31 0\\.2\\.2 items among 31 items read; \\d+ requests, [\\d.]+ RCU, [\\d.]+ WCU, [\\d.]+ s, \\d+ items/s\\)\n` +
          `skipped, left as they are:\n` +
          `  "Bad#Saga" "[0-9a-f-]{36}": sagaName must not contain "#" \\(blocks no saga name\\)\n$`,
      ),
    );
  });

  it("gives back every saga as 0.2.2 last wrote it: same id, version, fields and Dates", async () => {
    const store = storeOn(tableName);
    for (const saga of sagas) {
      const found = await store.getByCorrelationId(NAME, saga.correlationId);
      expect(found).toEqual(saga.state);
      expect(found?.placedAt).toBeInstanceOf(Date);
      expect(found?.customer.address.since).toBeInstanceOf(Date);
      expect(found?.metadata.updatedAt).toBeInstanceOf(Date);
    }
    const page = await store.findByName(NAME, { limit: 100 });
    expect(page.items).toHaveLength(30);
  });

  it("lets the saga-bus-like loop drive every saga on: none restarted, none lost", async () => {
    const store = storeOn(tableName);
    type Message = { readonly id: string; readonly orderId: string };
    const definition: LoopSagaDefinition<OrderState, Message> = {
      name: NAME,
      messageId: (message) => message.id,
      correlationId: (message) => message.orderId,
      canStart: () => false,
      initialState: () => {
        throw new Error("no saga may start: every one exists");
      },
      handle: (message, state) => {
        // A handler calls methods on the Dates of its state.
        const placed = state.placedAt.getTime() + state.customer.address.since.getTime();
        return {
          newState: {
            ...state,
            status: `delivered after ${placed > 0 ? "placement" : "?"}`,
            applied: [...state.applied, message.id],
          },
          isCompleted: true,
          duplicate: false,
        };
      },
    };
    const stats = await runMessageLoop({
      store,
      definition,
      deliveries: sagas.map((saga) => ({
        id: `m-deliver-${saga.correlationId}`,
        orderId: saga.correlationId,
      })),
      concurrency: 8,
      retry: { maxAttempts: 5, maxRequeues: 2, maxDeadLetters: 5 },
    });
    expect(stats.deadLettered).toEqual([]);
    expect(stats.sagasStarted).toBe(0);
    expect(stats.applied).toBe(20);
    expect(stats.ignoredCompleted).toBe(10);
    for (const saga of sagas) {
      const found = await store.getByCorrelationId(NAME, saga.correlationId);
      expect(found?.metadata.sagaId).toBe(saga.state.metadata.sagaId);
      if (saga.stage === "completed") {
        expect(found).toEqual(saga.state);
      } else {
        expect(found?.metadata.version).toBe(saga.state.metadata.version + 1);
        expect(found?.status).toBe("delivered after placement");
        expect(found?.applied).toEqual([...saga.state.applied, `m-deliver-${saga.correlationId}`]);
        expect(found?.metadata.createdAt).toEqual(saga.state.metadata.createdAt);
      }
    }
  });

  it("deletes the sagas 0.2.2 completed in cleanup, by the day they completed, once the cleanup index is replaced", async () => {
    // 0.2.2 made the cleanup index KEYS_ONLY; cleanup reads sagaId, correlationId and
    // completedAt from it, so the upgrade replaces it (docs/migration.md, step 5).
    const ensured = await cli(["--table", tableName, "table", "ensure", "--replace-indexes"]);
    expect(ensured).toMatchObject({ code: 0, stderr: "" });
    // The 10 sagas completed three days ago go; the 20 the loop completed just now stay.
    const store = storeOn(tableName);
    const deleted = await store.deleteCompletedBefore(NAME, new Date(Date.now() - DAY_MS));
    expect(deleted).toBe(10);
    for (const saga of sagas) {
      const found = await store.getByCorrelationId(NAME, saga.correlationId);
      if (saga.stage === "completed") expect(found).toBeNull();
      else expect(found?.metadata.isCompleted).toBe(true);
    }
  });
});

describe("a run that is interrupted, run again", () => {
  it("finishes on the second run, and a third changes nothing", async () => {
    const tableName = await legacyTable();
    const sagas = await writeLegacySagas(tableName, 60);
    // The process dies at the 20th request: that request reaches DynamoDB, its answer does
    // not, and nothing after it is sent.
    let sent = 0;
    const dying: Send = async (command) => {
      sent++;
      if (sent > 20) throw new Error("the process is gone");
      const out = await sendVia(docClient)(command);
      if (sent === 20) throw new Error("the process is gone");
      return out;
    };
    await expect(migrate(tableName, dying)).rejects.toThrow("the process is gone");
    const left = await legacyCount(tableName);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(60);

    const second = await migrate(tableName);
    expect(second).toMatchObject({
      scanned: left,
      converted: left,
      alreadyMigrated: 0,
      skipped: [],
    });
    expect(await legacyCount(tableName)).toBe(0);

    const before = await snapshot(tableName);
    const third = await migrate(tableName);
    expect(third).toMatchObject({ scanned: 0, converted: 0, alreadyMigrated: 0, skipped: [] });
    expect(await snapshot(tableName)).toBe(before);

    const store = storeOn(tableName);
    for (const saga of sagas) {
      expect(await store.getByCorrelationId(NAME, saga.correlationId)).toEqual(saga.state);
    }
  }, 120_000);

  it("a killed CLI run is finished by the next one", async () => {
    const tableName = await legacyTable();
    const sagas = await writeLegacySagas(tableName, 300, 32);
    const env = { ...process.env, AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local" };
    // Killed as soon as it has migrated something (or when it ends on its own).
    const child = execFile(
      process.execPath,
      [
        BIN,
        "--endpoint",
        localEndpoint(),
        "--region",
        "local",
        "--table",
        tableName,
        "migrate",
        "--concurrency",
        "2",
        "--segments",
        "1",
      ],
      { env },
    );
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await legacyCount(tableName)) === 300) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    child.kill("SIGKILL");
    await exited;

    // Requests the killed process had sent may still land: only the outcome is certain.
    const next = await cli(["--table", tableName, "migrate"]);
    expect(next).toMatchObject({ code: 0, stderr: "" });
    expect(next.stdout).toMatch(
      /^(table \S+ holds no 0\.2\.2 items: nothing to migrate|migrated table \S+: \d+ sagas? converted, \d+ already migrated, 0 skipped )/,
    );
    expect(await legacyCount(tableName)).toBe(0);
    const store = storeOn(tableName);
    for (const saga of sagas) {
      expect(await store.getByCorrelationId(NAME, saga.correlationId)).toEqual(saga.state);
    }
  }, 120_000);
});

describe("beside other writers", () => {
  it("migrates a 0.2.2 item at the version a 0.2.2 worker wrote meanwhile", async () => {
    const tableName = await legacyTable();
    const [saga] = await writeLegacySagas(tableName, 1);
    const legacyStore = new seed.DynamoDBSagaStore({ client: docClient, tableName });
    const newer = advance(saga!.state, { status: "paid late" }, new Date());
    let raced = false;
    // Between the scan and the first migration transaction, a 0.2.2 worker updates the saga.
    const racing: Send = async (command) => {
      if (!raced && command.constructor.name === "TransactWriteCommand") {
        raced = true;
        await legacyStore.update(NAME, newer, saga!.state.metadata.version);
      }
      return sendVia(docClient)(command);
    };
    const summary = await migrate(tableName, racing);
    expect(summary).toMatchObject({ scanned: 1, converted: 1, skipped: [] });
    expect(await findToday(tableName, saga!.correlationId)).toEqual(newer);
    expect(await legacyCount(tableName)).toBe(0);
  });

  it("never overwrites today's items: a saga already there is finished, a conflict is reported", async () => {
    const tableName = await legacyTable();
    const [ahead, behind, taken, reserved] = await writeLegacySagas(tableName, 4);
    // Today's layout already holds `ahead` at a later version (copied by hand and moved on).
    const later = advance(ahead!.state, { status: "moved on" }, new Date());
    await writeToday(tableName, ahead!.correlationId, later);
    // ... and `behind` at an earlier version.
    const behindState = { ...behind!.state, metadata: { ...behind!.state.metadata, version: 0 } };
    await writeToday(tableName, behind!.correlationId, behindState);
    // A second saga already started in today's layout for `taken`'s correlation id.
    const second = orderState(taken!.correlationId);
    await writeToday(tableName, taken!.correlationId, second);
    // A correlation item that already names `reserved` (its saga item is missing).
    await docClient.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          PK: `SAGA#${NAME}`,
          SK: `CORR#${reserved!.correlationId}`,
          sagaId: reserved!.state.metadata.sagaId,
        },
      }),
    );
    const todayBefore = JSON.parse(await snapshot(tableName)) as Array<{ PK: { S: string } }>;
    const todaysItems = (snap: string) =>
      (JSON.parse(snap) as Array<{ PK: { S: string } }>).filter((item) =>
        item.PK.S.startsWith("SAGA#"),
      );

    const summary = await migrate(tableName);
    expect(summary).toMatchObject({ scanned: 4, converted: 1, alreadyMigrated: 1 });
    expect(summary.skipped).toEqual(
      expect.arrayContaining([
        {
          sagaName: NAME,
          sagaId: behind!.state.metadata.sagaId,
          reason: `today's saga item exists at version 0, behind the 0.2.2 item's version ${behind!.state.metadata.version}`,
          blocking: true,
        },
        {
          sagaName: NAME,
          sagaId: taken!.state.metadata.sagaId,
          reason: `the correlation id is reserved by another saga (id "${second.metadata.sagaId}")`,
          blocking: true,
        },
      ]),
    );
    expect(summary.skipped).toHaveLength(2);

    expect(await findToday(tableName, ahead!.correlationId)).toEqual(later);
    expect(await findToday(tableName, behind!.correlationId)).toEqual(behindState);
    expect(await findToday(tableName, taken!.correlationId)).toEqual(second);
    expect(await findToday(tableName, reserved!.correlationId)).toEqual(reserved!.state);
    // Today's items that existed before are as they were, byte for byte.
    const after = await snapshot(tableName);
    for (const item of todayBefore.filter((i) => i.PK.S.startsWith("SAGA#"))) {
      expect(todaysItems(after)).toContainEqual(item);
    }
    // The two skipped sagas keep their 0.2.2 items; a second run reports them again.
    expect(await legacyCount(tableName)).toBe(2);
    const again = await migrate(tableName);
    expect(again).toMatchObject({ scanned: 2, converted: 0, alreadyMigrated: 0 });
    expect(again.skipped).toHaveLength(2);
  });
});

describe("--dry-run", () => {
  it("leaves the table byte-identical and says what a run would do", async () => {
    const tableName = await legacyTable();
    const sagas = await writeLegacySagas(tableName, 12);
    // One saga already in today's layout, one correlation id already taken there.
    await writeToday(tableName, sagas[0]!.correlationId, sagas[0]!.state);
    const second = orderState(sagas[1]!.correlationId);
    await writeToday(tableName, sagas[1]!.correlationId, second);
    const before = await snapshot(tableName);

    const dry = await cli(["--table", tableName, "migrate", "--dry-run"]);
    expect(dry).toMatchObject({ code: 3 });
    expect(dry.stderr).toContain("1 saga would be skipped");
    expect(await snapshot(tableName)).toBe(before);
    expect(dry.stdout).toMatch(
      new RegExp(
        `^dry run of table ${tableName}, nothing written: would convert 10 sagas, ` +
          `would delete the 0\\.2\\.2 items of 1 already migrated, would skip 1 ` +
          `\\(12 0\\.2\\.2 items among 16 items read; .+\\)\n` +
          `would skip, left as they are:\n` +
          `  "${NAME}" "${sagas[1]!.state.metadata.sagaId}": the correlation id is reserved by another saga \\(id "${second.metadata.sagaId}"\\)\n$`,
      ),
    );

    // What the dry run announced is what the run does.
    const real = await migrate(tableName);
    expect(real).toMatchObject({ scanned: 12, converted: 10, alreadyMigrated: 1 });
    expect(real.skipped).toHaveLength(1);
  });
});

describe("throughput", () => {
  it("migrates 2,000 sagas in one transaction each, plus the scan", async () => {
    const tableName = await legacyTable();
    const count = 2000;
    await writeLegacySagas(tableName, count, 64);
    const started = performance.now();
    const summary = await migrate(tableName);
    const seconds = (performance.now() - started) / 1000;
    expect(summary).toMatchObject({
      scanned: count,
      converted: count,
      alreadyMigrated: 0,
      skipped: [],
    });
    const scanPages = summary.requests - count;
    expect(scanPages).toBeGreaterThanOrEqual(4); // one page per segment at least
    expect(scanPages).toBeLessThan(40);
    console.log(
      `migrate on DynamoDB Local: ${count} sagas in ${seconds.toFixed(2)} s = ` +
        `${Math.round(count / seconds)} items/s; ${summary.requests} requests ` +
        `(${count} TransactWriteItems + ${scanPages} Scan pages); ` +
        `${summary.writeCapacityUnits} WCU, ${summary.readCapacityUnits} RCU reported`,
    );
    expect(await legacyCount(tableName)).toBe(0);
  }, 300_000);
});
