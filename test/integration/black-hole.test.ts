/**
 * A connection that never answers (a half-open TCP connection, a stuck load balancer): a local
 * server that accepts requests and never replies, in front of nothing. With the client
 * settings docs/operations.md recommends, every operation ends in a TransientError (saga-bus
 * retries); with the SDK's defaults a request waits with no end, and so does the worker.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createServer, type Server, type Socket } from "node:net";
import { createDynamoDBSagaStore, sendVia, TransientError } from "../../src";
import { LOCAL_CLIENT_CONFIG } from "../../scripts/dynamodb-local";
import { orderState } from "../support/states";

let server: Server;
let endpoint: string;
const sockets: Socket[] = [];
/** Set to end a test's hanging requests: open connections are reset, new ones refused. */
let hangingUp = false;

const hangUp = () => {
  hangingUp = true;
  for (const socket of sockets) socket.destroy();
};

beforeAll(async () => {
  server = createServer((socket) => {
    if (hangingUp) {
      socket.destroy();
      return;
    }
    sockets.push(socket);
    socket.on("data", () => {}); // read the request, never answer
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  endpoint = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  hangUp();
  await new Promise((resolve) => server.close(resolve));
});

/** A store whose client has these `requestHandler` options. */
const storeWith = (requestHandler: Record<string, unknown> | undefined) => {
  const client = new DynamoDBClient({
    ...LOCAL_CLIENT_CONFIG,
    endpoint,
    maxAttempts: 2,
    ...(requestHandler === undefined ? {} : { requestHandler }),
  });
  const store = createDynamoDBSagaStore({
    send: sendVia(DynamoDBDocumentClient.from(client)),
    tableName: "black-hole",
  });
  return { store, client };
};

// What docs/operations.md recommends (throwOnRequestTimeout: newer SDKs only warn without it).
const RECOMMENDED = { connectionTimeout: 300, requestTimeout: 300, throwOnRequestTimeout: true };

it("with a request timeout, reads and updates end in a TransientError", async () => {
  const { store, client } = storeWith(RECOMMENDED);
  try {
    const read: unknown = await store.getById("OrderSaga", "saga-1").catch((e: unknown) => e);
    expect(read).toBeInstanceOf(TransientError);
    // The update's answer never came, nor did the read of its write ids: the failure stands.
    const state = {
      ...orderState("hole-1"),
      metadata: { ...orderState("hole-1").metadata, version: 1 },
    };
    const update: unknown = await store.update("OrderSaga", state, 0).catch((e: unknown) => e);
    expect(update).toBeInstanceOf(TransientError);
  } finally {
    client.destroy();
  }
}, 30_000);

it("with the SDK's defaults, a request is still waiting long after any DynamoDB answer", async () => {
  const { store, client } = storeWith(undefined);
  const pending = store.getById("OrderSaga", "saga-1").then(
    () => "answered",
    () => "failed",
  );
  const after = new Promise((resolve) => setTimeout(() => resolve("still waiting"), 2000));
  try {
    expect(await Promise.race([pending, after])).toBe("still waiting");
  } finally {
    hangUp();
    await pending;
    client.destroy();
  }
}, 30_000);
