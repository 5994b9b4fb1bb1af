/**
 * Faults injected between the store and a real DynamoDB Local: each failed call maps to the
 * right typed error, and the table holds what it held before it.
 */
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import {
  createDynamoDBSagaStore,
  sendVia,
  TransientError,
  type DynamoDBSagaStoreFunctions,
  type Send,
  type StoreCommand,
} from "../../src";
import { createLocalTable, type LocalTable } from "../support/local-table";
import { nextVersion, orderState, type OrderState } from "../support/states";

let table: LocalTable;
let real: Send;

beforeAll(async () => {
  table = await createLocalTable();
  real = sendVia(table.docClient);
});
afterAll(() => table.drop());

const snapshot = async () =>
  (
    (
      await table.docClient.send(
        new ScanCommand({ TableName: table.tableName, ConsistentRead: true }),
      )
    ).Items ?? []
  )
    .map((item) => JSON.stringify(Object.entries(item).sort(([a], [b]) => a.localeCompare(b))))
    .sort();

const awsError = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} injected`), {
    name,
    $fault: "server",
    $metadata: { httpStatusCode: 500 },
    ...extra,
  });

/** A store whose `send` fails the commands `fail` picks, before they reach DynamoDB. */
const faultyStore = (fail: (command: StoreCommand, index: number) => Error | undefined) => {
  let index = 0;
  const send: Send = (command) => {
    const error = fail(command, index++);
    return error === undefined ? real(command) : Promise.reject(error);
  };
  return createDynamoDBSagaStore<OrderState>({ send, tableName: table.tableName });
};

const healthy = (): DynamoDBSagaStoreFunctions<OrderState> =>
  createDynamoDBSagaStore<OrderState>({ send: real, tableName: table.tableName });

const retryable: Array<[string, Error]> = [
  [
    "throttling",
    awsError("ProvisionedThroughputExceededException", {
      $fault: "client",
      $metadata: { httpStatusCode: 400 },
    }),
  ],
  [
    "ThrottlingException",
    awsError("ThrottlingException", { $fault: "client", $metadata: { httpStatusCode: 400 } }),
  ],
  [
    "RequestLimitExceeded",
    awsError("RequestLimitExceeded", { $fault: "client", $metadata: { httpStatusCode: 400 } }),
  ],
  ["a 503", awsError("ServiceUnavailable", { $metadata: { httpStatusCode: 503 } })],
  ["a connection reset", Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })],
  [
    "a timeout",
    Object.assign(new Error("Connection timed out after 1000 ms"), { name: "TimeoutError" }),
  ],
];

describe.each(retryable)("%s", (_, fault) => {
  it("on insert, update and delete: TransientError with the cause, and the table unchanged", async () => {
    const state = orderState(`fault-${fault.name}-${Math.random()}`);
    await healthy().insert("Faults", state.orderId, state);
    const before = await snapshot();
    const store = faultyStore(() => fault);

    for (const attempt of [
      () => store.insert("Faults", `${state.orderId}-2`, orderState(`${state.orderId}-2`)),
      () => store.update("Faults", nextVersion(state, { status: "changed" }), 0),
      () => store.delete("Faults", state.metadata.sagaId),
    ]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransientError);
      expect((error as TransientError).cause).toBe(fault);
    }
    expect(await snapshot()).toEqual(before);
  });
});

it("a delete whose transaction fails after its read leaves saga and correlation item in place", async () => {
  const state = orderState("half-delete");
  await healthy().insert("Faults", state.orderId, state);
  const before = await snapshot();
  const store = faultyStore((command) =>
    command.constructor.name === "TransactWriteCommand"
      ? awsError("InternalServerError")
      : undefined,
  );
  await expect(store.delete("Faults", state.metadata.sagaId)).rejects.toBeInstanceOf(
    TransientError,
  );
  expect(await snapshot()).toEqual(before);
  expect((await healthy().getByCorrelationId("Faults", state.orderId))?.metadata.sagaId).toBe(
    state.metadata.sagaId,
  );
});

it("a cleanup cut off between deleting sagas and their correlation items leaves no saga without one, and a new start takes the orphan over", async () => {
  const writer = createDynamoDBSagaStore<OrderState>({ send: real, tableName: table.tableName });
  // Completed a year before the cutoff (the completing write's updatedAt).
  const completedAt = new Date(Date.UTC(2025, 0, 1));
  const states = Array.from({ length: 5 }, (_, i) => orderState(`cut-${i}`));
  for (const s of states) {
    await writer.insert("Cut", s.orderId, s);
    await writer.update(
      "Cut",
      nextVersion(s, {}, { isCompleted: true, updatedAt: completedAt }),
      0,
    );
  }
  let statements = 0;
  const store = faultyStore((command) => {
    if (command.constructor.name !== "BatchExecuteStatementCommand") return undefined;
    // The first batch (the sagas) goes through; the second (their correlation items) fails for good.
    return statements++ === 0
      ? undefined
      : awsError("ValidationException", { $fault: "client", $metadata: { httpStatusCode: 400 } });
  });
  await expect(
    store.deleteCompletedBefore("Cut", new Date(Date.UTC(2026, 0, 1))),
  ).rejects.toThrow();

  const items =
    (
      await table.docClient.send(
        new ScanCommand({ TableName: table.tableName, ConsistentRead: true }),
      )
    ).Items ?? [];
  const cut = items.filter((i) => i.PK === "SAGA#Cut");
  expect(cut.filter((i) => String(i.SK).startsWith("ID#"))).toHaveLength(0);
  expect(cut.filter((i) => String(i.SK).startsWith("CORR#"))).toHaveLength(5);

  // An orphaned correlation item does not block the correlation id.
  const again = orderState("cut-0");
  await healthy().insert("Cut", "cut-0", again);
  expect((await healthy().getByCorrelationId("Cut", "cut-0"))?.metadata.sagaId).toBe(
    again.metadata.sagaId,
  );
});
