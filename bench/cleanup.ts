/**
 * Cleanup throughput on DynamoDB Local: 10,000 completed sagas (with their correlation
 * items), deleted by `deleteCompletedBefore`; sagas per second and requests.
 */
import { BatchWriteCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createDynamoDBSagaStore, createTable, meterSend, sendVia } from "../src";
import { commands, encodeState } from "../src/internals";
import { startDynamoDBLocal } from "../scripts/dynamodb-local";
import { withLocalClient } from "./local";
import { orderState, startMetadata } from "../test/support/states";

/** Result of one cleanup run. */
export interface CleanupFigures {
  readonly sagas: number;
  readonly seconds: number;
  readonly sagasPerSecond: number;
  readonly requests: number;
  readonly byCommand: Record<string, { requests: number }>;
}

const TABLE = {
  tableName: "cleanup-bench",
  correlationIndexName: "GSI1",
  cleanupIndexName: "GSI2",
};

/**
 * Writes `count` sagas of `sagaName` completed at `completedAt` (their `updatedAt`, which is
 * the completion time), and their correlation items, directly, in batches.
 */
const seed = async (
  docClient: DynamoDBDocumentClient,
  sagaName: string,
  count: number,
  completedAt: Date,
) => {
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const state = orderState(
      `order-${i}`,
      startMetadata({ isCompleted: true, createdAt: completedAt, updatedAt: completedAt }),
    );
    const encoded = encodeState(state, { sagaName }, undefined);
    const input = commands.insertInput(TABLE, sagaName, `order-${i}`, encoded);
    for (const action of input.TransactItems ?? []) items.push(action.Put!.Item!);
  }
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  const worker = async () => {
    for (let batch = batches.pop(); batch; batch = batches.pop()) {
      let pending = batch.map((Item) => ({ PutRequest: { Item } }));
      while (pending.length > 0) {
        const out = await docClient.send(
          new BatchWriteCommand({ RequestItems: { [TABLE.tableName]: pending } }),
        );
        pending = (out.UnprocessedItems?.[TABLE.tableName] ?? []) as typeof pending;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
};

/** Seeds and cleans up `count` sagas on an endpoint; returns the figures. */
export const runCleanupBenchmark = (endpoint: string, count = 10_000): Promise<CleanupFigures> =>
  withLocalClient(endpoint, async (client) => {
    const docClient = DynamoDBDocumentClient.from(client);
    await createTable(client, { tableName: TABLE.tableName });
    await seed(docClient, "Bench", count, new Date(Date.UTC(2025, 0, 1)));
    const metered = meterSend(sendVia(docClient));
    const store = createDynamoDBSagaStore({ send: metered.send, tableName: TABLE.tableName });
    const started = process.hrtime.bigint();
    const deleted = await store.deleteCompletedBefore("Bench", new Date(Date.UTC(2026, 0, 1)), {
      concurrency: Number(process.env.CLEANUP_CONCURRENCY ?? 16),
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (deleted !== count) throw new Error(`cleanup deleted ${deleted} of ${count} sagas`);
    const meter = metered.snapshot();
    return {
      sagas: deleted,
      seconds,
      sagasPerSecond: deleted / seconds,
      requests: meter.requests,
      byCommand: Object.fromEntries(
        Object.entries(meter.byCommand).map(([k, v]) => [k, { requests: v.requests }]),
      ),
    };
  });

if (require.main === module) {
  void (async () => {
    const local = await startDynamoDBLocal();
    try {
      const count = Number(process.argv[2] ?? 10_000);
      console.log(JSON.stringify(await runCleanupBenchmark(local.endpoint, count), null, 2));
    } finally {
      await local.stop();
    }
  })();
}
