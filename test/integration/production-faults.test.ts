/**
 * Where production differs from the bench, on DynamoDB Local: a lagging correlation index,
 * responses lost after the write was applied, items near DynamoDB's 400 KB limit, and
 * several instances creating the table at once.
 */
import { DescribeTimeToLiveCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import {
  createDynamoDBSagaStore,
  deleteTable,
  MAX_ITEM_BYTES,
  sendVia,
  StateTooLargeError,
  type Send,
  ensureTableFirst,
} from "../../src";
import { insertInput } from "../../src/commands";
import { encodeState } from "../../src/marshal";
import { itemSize } from "../../src/size";
import { LOCAL_CLIENT_CONFIG } from "../../scripts/dynamodb-local";
import { runMessageLoop } from "../../workload/message-loop";
import { orderSaga, type OrderState as DemoOrderState } from "../../workload/order-saga";
import { buildWorkload } from "../../workload/deliveries";
import { faultyClients } from "../support/faults";
import { createLocalTable, type LocalTable } from "../support/local-table";
import { nextVersion, orderState, type OrderState } from "../support/states";

let table: LocalTable;

beforeAll(async () => {
  table = await createLocalTable();
});
afterAll(() => table.drop());

const NAME = "OrderSaga";
const store = (send: Send = sendVia(table.docClient)) =>
  createDynamoDBSagaStore<OrderState>({ send, tableName: table.tableName });

const storedVersion = async (sagaId: string) =>
  (
    await table.docClient.send(
      new GetCommand({
        TableName: table.tableName,
        Key: { PK: `SAGA#${NAME}`, SK: `ID#${sagaId}` },
        ConsistentRead: true,
      }),
    )
  ).Item?.version;

describe("consistency: eventual, while eventually consistent reads lag", () => {
  // DynamoDB Local answers every read from the latest write; DynamoDB's eventually
  // consistent reads may not. This `send` hides what every eventually consistent GetItem
  // finds, as a replica that has not caught up with recent inserts would.
  const lagging = (counter: { hidden: number }): Send => {
    const real = sendVia(table.docClient);
    return async (command) => {
      const out = await real(command);
      if (command instanceof GetCommand && command.input.ConsistentRead !== true) {
        if ((out as { Item?: unknown }).Item !== undefined) counter.hidden++;
        return { ...(out as object), Item: undefined };
      }
      return out;
    };
  };

  it("finds every saga the lagging reads do not show yet, so no message is dropped as 'no saga'", async () => {
    const sagas = Array.from({ length: 20 }, (_, i) => orderState(`lag-${i}-${randomUUID()}`));
    for (const state of sagas) await store().insert(NAME, state.orderId, state);

    const counter = { hidden: 0 };
    const eventual = createDynamoDBSagaStore<OrderState>({
      send: lagging(counter),
      tableName: table.tableName,
      consistency: "eventual",
    });
    let applied = 0;
    for (const state of sagas) {
      const found = await eventual.getByCorrelationId(NAME, state.orderId);
      expect(found?.metadata.sagaId).toBe(state.metadata.sagaId);
      await eventual.update(NAME, nextVersion(found!, { status: "paid" }), found!.metadata.version);
      applied++;
    }
    expect(applied).toBe(20);
    // The lag was real: the eventual reads found the correlation items and the wrapper hid them.
    expect(counter.hidden).toBe(20);
  });
});

describe("an update whose response is lost", () => {
  it("is a success when the SDK's retry finds the store's own write", async () => {
    const { handler, client, docClient } = faultyClients({
      lostResponse: 1,
      throttle: 0,
      operations: ["UpdateItem"],
    });
    try {
      const lossy = store(sendVia(docClient));
      const state = orderState(`lost-${randomUUID()}`);
      await store().insert(NAME, state.orderId, state);
      const next = nextVersion(state, { status: "paid" });
      await expect(lossy.update(NAME, next, 0)).resolves.toBeUndefined();
      expect(handler.counts.lostResponses.get("UpdateItem")).toBe(1);
      expect(handler.counts.requests.get("UpdateItem")).toBe(2);
      expect(await storedVersion(state.metadata.sagaId)).toBe(1);
      // A real conflict is still one.
      await expect(lossy.update(NAME, nextVersion(state), 0)).rejects.toMatchObject({
        name: "ConcurrencyError",
        actualVersion: 1,
      });
    } finally {
      client.destroy();
    }
  });

  // Other updates land between the lost attempt and the SDK's retry: the retry sees their
  // writeIds, and this update's own id shifted down one slot per update (writeId, prevWriteId,
  // prevWriteId2, prevWriteId3). Three such updates are recognised; a fourth pushes the id out,
  // and the retry is then a ConcurrencyError (saga-bus redelivers: at-least-once).
  const racedUpdate = async (others: number) => {
    const state = orderState(`lost-raced-${randomUUID()}`);
    await store().insert(NAME, state.orderId, state);
    const ours = nextVersion(state, { status: "paid" });
    let raced = false;
    const { handler, client, docClient } = faultyClients({
      lostResponse: 1,
      throttle: 0,
      operations: ["UpdateItem"],
      beforeLoss: async () => {
        if (raced) return;
        raced = true;
        // On top of the lost version 1: versions 2, 3, … by another writer.
        let latest = ours;
        for (let i = 0; i < others; i += 1) {
          const next = nextVersion(latest, { status: `shipped-${i}` });
          await store().update(NAME, next, latest.metadata.version);
          latest = next;
        }
      },
    });
    try {
      const outcome = await store(sendVia(docClient))
        .update(NAME, ours, 0)
        .then(
          () => "success",
          (error: unknown) => error,
        );
      expect(raced).toBe(true);
      expect(handler.counts.lostResponses.get("UpdateItem")).toBe(1);
      expect(await storedVersion(state.metadata.sagaId)).toBe(1 + others);
      return outcome;
    } finally {
      client.destroy();
    }
  };

  it.each([1, 3])(
    "is a success even when %i other update(s) land before the SDK's retry",
    async (others) => {
      expect(await racedUpdate(others)).toBe("success");
    },
  );

  it("is a ConcurrencyError when four other updates land before the retry (the documented bound)", async () => {
    expect(await racedUpdate(4)).toMatchObject({ name: "ConcurrencyError", actualVersion: 5 });
  });

  // The SDK gives up (here at once; in production when its retries are throttled or lost too):
  // the update was applied, and one strong read of its write ids says so.
  it("is a success when the SDK gives up on the lost answer of an applied update", async () => {
    const state = orderState(`lost-gave-up-${randomUUID()}`);
    await store().insert(NAME, state.orderId, state);
    const { handler, client, docClient } = faultyClients(
      { lostResponse: 1, throttle: 0, operations: ["UpdateItem"] },
      { maxAttempts: 1 },
    );
    try {
      const lossy = store(sendVia(docClient));
      await expect(lossy.update(NAME, nextVersion(state), 0)).resolves.toBeUndefined();
      expect(handler.counts.lostResponses.get("UpdateItem")).toBe(1);
      expect(handler.counts.requests.get("UpdateItem")).toBe(1);
      expect(handler.counts.requests.get("GetItem")).toBe(1);
      expect(await storedVersion(state.metadata.sagaId)).toBe(1);
      // Not applied (its condition failed, and that answer was lost too): the failure stands.
      const stale = nextVersion(state, { status: "stale" });
      await expect(lossy.update(NAME, stale, 0)).rejects.toMatchObject({
        name: "TransientError",
      });
      expect(handler.counts.requests.get("GetItem")).toBe(2);
      expect(await storedVersion(state.metadata.sagaId)).toBe(1);
    } finally {
      client.destroy();
    }
  });

  it("inserts and deletes whose responses are lost succeed too (transaction client tokens)", async () => {
    const { handler, client, docClient } = faultyClients({
      lostResponse: 1,
      throttle: 0,
      operations: ["TransactWriteItems"],
    });
    try {
      const lossy = store(sendVia(docClient));
      const state = orderState(`lost-tx-${randomUUID()}`);
      await expect(lossy.insert(NAME, state.orderId, state)).resolves.toBeUndefined();
      expect(await storedVersion(state.metadata.sagaId)).toBe(0);
      await expect(lossy.delete(NAME, state.metadata.sagaId)).resolves.toBeUndefined();
      expect(await storedVersion(state.metadata.sagaId)).toBeUndefined();
      expect(handler.counts.lostResponses.get("TransactWriteItems")).toBe(2);
    } finally {
      client.destroy();
    }
  });
});

describe("items near DynamoDB's 400 KB limit", () => {
  const insertedSize = (state: OrderState, correlationId: string) =>
    itemSize(
      insertInput(
        { tableName: table.tableName, correlationIndexName: "GSI1", cleanupIndexName: "GSI2" },
        NAME,
        correlationId,
        encodeState(state, {}, undefined),
      ).TransactItems![0]!.Put!.Item!,
    );
  /** `state` with a blob that makes its inserted item `bytes` long. */
  const sized = (state: OrderState, correlationId: string, bytes: number) => ({
    ...state,
    blob: "x".repeat(bytes - insertedSize({ ...state, blob: "" } as OrderState, correlationId)),
  });

  it("an unchanged update accepts what its insert accepted (short correlation id, 1.5 KB under)", async () => {
    const correlationId = `near-${randomUUID()}`;
    const state = sized(orderState(correlationId), correlationId, MAX_ITEM_BYTES - 1500);
    await store().insert(NAME, correlationId, state);
    await expect(store().update(NAME, nextVersion(state), 0)).resolves.toBeUndefined();
    expect(await storedVersion(state.metadata.sagaId)).toBe(1);
  });

  it("DynamoDB's refusal of an update over the limit is typed and writes nothing", async () => {
    // Long enough that the item is over the limit only with its correlation attributes,
    // which the update does not know: DynamoDB decides.
    const correlationId = `big-${randomUUID()}-${"c".repeat(900)}`;
    const state = sized(orderState(correlationId), correlationId, MAX_ITEM_BYTES - 1500);
    await store().insert(NAME, correlationId, state);
    const tooBig = sized(nextVersion(state), correlationId, MAX_ITEM_BYTES + 1000);
    const error: unknown = await store()
      .update(NAME, tooBig, 0)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateTooLargeError);
    expect(error).toMatchObject({ code: "state.tooLarge", sagaId: state.metadata.sagaId });
    expect((error as StateTooLargeError).cause).toMatchObject({ name: "ValidationException" });
    expect(await storedVersion(state.metadata.sagaId)).toBe(0);
  });
});

describe("three instances with ensureTable { ttl: true } starting at once on a missing table", () => {
  let client: DynamoDBClient;
  const tableName = `instances-${randomUUID()}`;
  beforeAll(() => {
    client = new DynamoDBClient({
      ...LOCAL_CLIENT_CONFIG,
      endpoint: process.env.DYNAMODB_ENDPOINT,
    });
  });
  afterAll(async () => {
    await deleteTable(client, tableName);
    client.destroy();
  });

  it("handle every message under the saga-bus-like loop: zero dead letters", async () => {
    const docClient = DynamoDBDocumentClient.from(client);
    const instances = [1, 2, 3].map((seed) => ({
      store: createDynamoDBSagaStore<DemoOrderState>({
        send: sendVia(docClient),
        tableName,
        completedSagaTtlSeconds: 3600,
        ensureTable: ensureTableFirst(client, { ttl: true }),
      }),
      workload: buildWorkload({ orders: 10, seed }),
    }));
    const runs = await Promise.all(
      instances.map(({ store: instanceStore, workload }) =>
        runMessageLoop({
          store: instanceStore,
          definition: orderSaga,
          deliveries: workload.deliveries,
          concurrency: 8,
          retry: { maxAttempts: 12, maxRequeues: 20, maxDeadLetters: 100 },
        }),
      ),
    );
    for (const stats of runs) {
      expect(stats.deadLettered).toEqual([]);
      expect(stats.handled).toBe(stats.deliveries);
    }
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    expect(ttl.TimeToLiveDescription).toMatchObject({
      AttributeName: "expiresAt",
      TimeToLiveStatus: "ENABLED",
    });
  });
});
