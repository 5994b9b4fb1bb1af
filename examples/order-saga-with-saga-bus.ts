/**
 * The demo's order-fulfilment saga (workload/order-saga.ts) wired into saga-bus: a saga
 * definition built with `createSagaMachine`, a bus from `createBus` with the in-memory
 * transport, and this package's DynamoDB store, as the functional store
 * (`createDynamoDBSagaStore` + `sendVia`) or as the class (`new DynamoDBSagaStore`).
 *
 * It needs `@saga-bus/core` and `@saga-bus/transport-inmemory` installed; see
 * examples/README.md. Here it is only type-checked, against examples/saga-bus-core.d.ts.
 *
 *   npx tsx examples/order-saga-with-saga-bus.ts [--class] [--orders N]
 *
 * Without `DYNAMODB_ENDPOINT` it starts DynamoDB Local (this repository's helper).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type * as SagaBusCore from "@saga-bus/core";
import type { SagaDefinition, SagaHandlerResult, SagaStore } from "@saga-bus/core";
// In an application: from "@saga-bus/store-dynamodb".
import { createDynamoDBSagaStore, DynamoDBSagaStore, ensureTable, sendVia } from "../src/index.js";
import { LOCAL_CLIENT_CONFIG, startDynamoDBLocal } from "../scripts/dynamodb-local.js";
import {
  handleOrderMessage,
  initialOrderState,
  MESSAGE_TYPES,
  SAGA_NAME,
  type OrderMessage,
  type OrderPlaced,
  type OrderState,
} from "../workload/order-saga.js";
import { buildWorkload } from "../workload/deliveries.js";

const TABLE_NAME = "saga-instances";

/** saga-bus's handler shape around the demo's pure, idempotent handler. */
const handle = async (
  message: OrderMessage,
  state: OrderState,
): Promise<SagaHandlerResult<OrderState>> => {
  const { newState, isCompleted } = handleOrderMessage(message, state);
  return { newState, isCompleted };
};

/**
 * saga-bus itself, loaded when the example runs (so that this file type-checks and imports
 * where saga-bus is not installed). The store finds core's error classes the same way the
 * code around it loads modules (`require` in CommonJS, `import()` in ESM), so that
 * `instanceof` in the bus sees the very classes the store throws; in an application, plain
 * static imports are fine.
 */
const loadSagaBus = async () => ({
  core: await import("@saga-bus/core"),
  transport: await import("@saga-bus/transport-inmemory"),
});

/**
 * The saga. Only `OrderPlaced` starts one; the handlers record the ids of the messages they
 * applied, so a redelivered message changes nothing.
 */
export const defineOrderSaga = ({
  createSagaMachine,
}: Pick<typeof SagaBusCore, "createSagaMachine">): SagaDefinition<OrderState, OrderMessage> =>
  createSagaMachine<OrderState, OrderMessage>()
    .name(SAGA_NAME)
    .correlate("OrderPlaced", (message) => message.orderId, { canStart: true })
    .correlate("*", (message) => message.orderId)
    // The runtime overwrites the metadata (sagaId, version 0, timestamps) before `insert`.
    .initial<OrderPlaced>((message, ctx) =>
      initialOrderState(message, {
        sagaId: ctx.sagaId,
        version: 0,
        createdAt: new Date(),
        updatedAt: new Date(),
        isCompleted: false,
      }),
    )
    .on("OrderPlaced")
    .handle(handle)
    .on("PaymentCaptured")
    .handle(handle)
    .on("ItemsReserved")
    .handle(handle)
    .on("OrderShipped")
    .handle(handle)
    .build();

/**
 * The two ways to build the store. `satisfies` checks, at compile time, that each one is a
 * saga-bus `SagaStore` as it is, while keeping the store's extras (`deleteCompletedBefore`).
 */
const createStores = (docClient: DynamoDBDocumentClient) => ({
  // Functional: free functions over an injected `send` (a fake, a tracing wrapper, …).
  functional: createDynamoDBSagaStore<OrderState>({
    send: sendVia(docClient),
    tableName: TABLE_NAME,
  }) satisfies SagaStore<OrderState>,
  // The class of the README, a thin shell over the functional store.
  instance: new DynamoDBSagaStore<OrderState>({
    client: docClient,
    tableName: TABLE_NAME,
  }) satisfies SagaStore<OrderState>,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until every order's saga satisfies `done`, or fails after `timeoutMs`. */
const waitFor = async (
  store: SagaStore<OrderState>,
  orderIds: readonly string[],
  done: (state: OrderState | null) => boolean,
  timeoutMs = 60_000,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(orderIds.map((id) => store.getByCorrelationId(SAGA_NAME, id)));
    if (states.every(done)) return;
    if (Date.now() > deadline) throw new Error("timed out waiting for the sagas");
    await sleep(200);
  }
};

const main = async (): Promise<void> => {
  const useClass = process.argv.includes("--class");
  const ordersArg = process.argv.indexOf("--orders");
  const orders = ordersArg > 0 ? Number(process.argv[ordersArg + 1]) : 10;

  const local = process.env.DYNAMODB_ENDPOINT ? undefined : await startDynamoDBLocal();
  const client = new DynamoDBClient({
    ...LOCAL_CLIENT_CONFIG,
    endpoint: process.env.DYNAMODB_ENDPOINT ?? local!.endpoint,
  });
  const docClient = DynamoDBDocumentClient.from(client);
  const { functional, instance } = createStores(docClient);
  const store = useClass ? instance : functional;
  const { core, transport } = await loadSagaBus();
  const bus = core.createBus({
    transport: new transport.InMemoryTransport({ defaultConcurrency: 8 }),
    sagas: [{ definition: defineOrderSaga(core), store }],
    worker: { defaultConcurrency: 8 },
  });
  try {
    await ensureTable(client, { tableName: TABLE_NAME });
    await bus.start();

    const { plans } = buildWorkload({ orders, seed: 1 });
    const orderIds = [...plans.keys()];
    // saga-bus drops a message that finds no saga and cannot start one, so the orders are
    // placed first; the other steps then race each other (ConcurrencyError: retried).
    await Promise.all([...plans.values()].map((plan) => bus.publish(plan.messages.OrderPlaced)));
    await waitFor(store, orderIds, (state) => state !== null);
    await Promise.all(
      [...plans.values()].flatMap((plan) => [
        ...MESSAGE_TYPES.filter((type) => type !== "OrderPlaced").map((type) =>
          bus.publish(plan.messages[type]),
        ),
        bus.publish(plan.messages.PaymentCaptured), // a redelivery: changes nothing
      ]),
    );
    await waitFor(store, orderIds, (state) => state?.metadata.isCompleted === true);
    await bus.stop();

    for (const id of orderIds) {
      const state = (await store.getByCorrelationId(SAGA_NAME, id))!;
      // Dates come back as Dates: their methods work on the loaded state.
      const hours = (state.lastEventAt.getTime() - state.placedAt.getTime()) / 3_600_000;
      console.log(
        `${id}: ${state.status}, version ${state.metadata.version}, ` +
          `${state.applied.length} messages applied, shipped ` +
          `${state.shipment?.shippedAt.toISOString()} (${hours.toFixed(1)} h after the order)`,
      );
    }
    // Everything completed counts as old here; in production, e.g. a week ago.
    const deleted = await store.deleteCompletedBefore(SAGA_NAME, new Date(Date.now() + 1000));
    console.log(`${useClass ? "class" : "functional"} store: deleted ${deleted} completed sagas`);
  } finally {
    if (bus.isRunning()) await bus.stop();
    client.destroy();
    await local?.stop();
  }
};

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
