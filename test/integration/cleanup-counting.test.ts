/**
 * What `deleteCompletedBefore` counts, on DynamoDB Local: only the sagas this run deleted
 * itself (a PartiQL DELETE of an item that is already gone succeeds too), and a far-future
 * cutoff (year 10000 and later) deletes every completed saga.
 */
import { BatchExecuteStatementCommand, DeleteCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import {
  createDynamoDBSagaStore,
  sendVia,
  type DynamoDBSagaStoreFunctions,
  type Send,
} from "../../src";
import { createLocalTable, type LocalTable } from "../support/local-table";
import { sagaItems } from "../support/saga-items";
import { orderState, startMetadata, type OrderState } from "../support/states";

let table: LocalTable;

beforeAll(async () => {
  table = await createLocalTable();
});
afterAll(() => table.drop());

const CUTOFF = new Date(Date.UTC(2026, 1, 1));
const OLD = new Date(Date.UTC(2026, 0, 10, 8, 0, 0));
/** The largest valid Date: "+275760-09-13T00:00:00.000Z". */
const LAST_DATE = new Date(8.64e15);

const makeStore = (send: Send = sendVia(table.docClient)): DynamoDBSagaStoreFunctions<OrderState> =>
  createDynamoDBSagaStore<OrderState>({ send, tableName: table.tableName });

/**
 * Inserts `count` sagas of `sagaName`, completed at `completedAt` (their `updatedAt`, the time
 * of the completing write); returns their saga ids.
 */
const seedCompleted = async (
  sagaName: string,
  count: number,
  completedAt: Date,
  prefix: string = sagaName,
) => {
  const store = makeStore();
  const ids: string[] = [];
  for (let i = 0; i < count; i += 25) {
    const states = Array.from({ length: Math.min(25, count - i) }, (_, j) =>
      orderState(
        `${prefix}-${i + j}`,
        startMetadata({ isCompleted: true, updatedAt: completedAt }),
      ),
    );
    await Promise.all(states.map((s) => store.insert(sagaName, s.orderId, s)));
    ids.push(...states.map((s) => s.metadata.sagaId));
  }
  return ids;
};

describe("deleteCompletedBefore counts only its own deletions", () => {
  it("two concurrent cleanups of the same 300 sagas return 300 in all, and their progress never adds up to more", async () => {
    const name = "Concurrent";
    await seedCompleted(name, 300, OLD);

    // Every delete waits until both runs' scans have answered: both find all 300 sagas and
    // race for each of them.
    const SEGMENTS = 4;
    let scansAnswered = 0;
    let bothScanned!: () => void;
    const scanned = new Promise<void>((resolve) => (bothScanned = resolve));
    const base = sendVia(table.docClient);
    const send: Send = async (command) => {
      if (command instanceof BatchExecuteStatementCommand) await scanned;
      const answer = await base(command);
      if (command instanceof ScanCommand && ++scansAnswered === 2 * SEGMENTS) bothScanned();
      return answer;
    };

    const latest = [0, 0];
    let mostReported = 0;
    const run = (i: number) =>
      makeStore(send).deleteCompletedBefore(name, CUTOFF, {
        segments: SEGMENTS,
        onProgress: ({ deleted }) => {
          expect(deleted).toBeGreaterThanOrEqual(latest[i]!);
          latest[i] = deleted;
          mostReported = Math.max(mostReported, latest[0]! + latest[1]!);
        },
      });
    const counts = await Promise.all([run(0), run(1)]);

    expect(counts[0]! + counts[1]!).toBe(300);
    expect(latest).toEqual(counts);
    expect(mostReported).toBe(300);
    expect(await sagaItems(table, name)).toEqual([]);
  });

  it("does not count sagas already deleted (by TTL) between its scan and its deletes, and still removes their correlation items", async () => {
    const name = "GoneBefore";
    const ids = await seedCompleted(name, 60, OLD);
    const expired = ids.slice(0, 20);

    // TTL deletes the saga item only, right after the scan found it.
    let expire: Promise<void> | undefined;
    const base = sendVia(table.docClient);
    const send: Send = async (command) => {
      if (command instanceof BatchExecuteStatementCommand) {
        expire ??= (async () => {
          for (const sagaId of expired) {
            await table.docClient.send(
              new DeleteCommand({
                TableName: table.tableName,
                Key: { PK: `SAGA#${name}`, SK: `ID#${sagaId}` },
              }),
            );
          }
        })();
        await expire;
      }
      return base(command);
    };
    const progress: number[] = [];
    const deleted = await makeStore(send).deleteCompletedBefore(name, CUTOFF, {
      segments: 1,
      concurrency: 1,
      onProgress: (p) => progress.push(p.deleted),
    });

    expect(expire).toBeDefined();
    expect(deleted).toBe(40);
    expect(progress.at(-1)).toBe(40);
    expect(Math.max(...progress)).toBe(40);
    expect(await sagaItems(table, name)).toEqual([]);
  });
});

describe("deleteCompletedBefore with a cutoff after year 9999", () => {
  it("deletes every completed saga when the cutoff is the year-275760 Date", async () => {
    const name = "FarFuture";
    await seedCompleted(name, 3, OLD);
    await seedCompleted(name, 2, new Date("9999-12-31T23:59:59.999Z"), "late");
    const active = orderState("active", startMetadata());
    await makeStore().insert(name, "active", active);

    expect(await makeStore().deleteCompletedBefore(name, LAST_DATE)).toBe(5);
    const left = await sagaItems(table, name);
    expect(left.map((i) => i.SK).sort()).toEqual(["CORR#active", `ID#${active.metadata.sagaId}`]);
  });
});
