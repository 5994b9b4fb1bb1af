/**
 * An SQS-triggered saga worker on AWS Lambda, bundled into one file (see build.mjs and
 * docs/lambda.md). Each record is handled the way the saga-bus runtime handles a message:
 * `getByCorrelationId`; no saga and a start message: `insert` at version 0, run the handler,
 * `update` to version 1; a saga: run the handler, `update` with the loaded version as
 * `expectedVersion`. The records of a batch run at the same time, so two messages of one
 * saga can race and one of them meets a `ConcurrencyError`.
 *
 * What is retried is decided the saga-bus way, with `instanceof` against `@saga-bus/core`'s
 * classes, and is handed back to SQS as a partial batch failure (`batchItemFailures`): the
 * message comes back after its visibility timeout and runs again. The store can only throw
 * core's classes from inside a bundle if it is handed them, hence `retryableErrors` below.
 *
 * Environment: `TABLE_NAME`; `DYNAMODB_ENDPOINT` only for DynamoDB Local.
 *
 * @packageDocumentation
 */
import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ConcurrencyError, TransientError } from "@saga-bus/core";
import { createDynamoDBSagaStore, sendVia } from "@saga-bus/store-dynamodb";
import {
  canStart,
  handleMessage,
  initialState,
  parseMessage,
  SAGA_NAME,
  type OrderMessage,
  type OrderState,
} from "./saga.js";

/** The part of an SQS record the worker reads (the event source mapping sends more). */
export interface SQSRecord {
  readonly messageId: string;
  readonly body: string;
  readonly attributes?: { readonly ApproximateReceiveCount?: string };
}

/** The event Lambda's SQS event source mapping invokes the handler with. */
export interface SQSEvent {
  readonly Records: readonly SQSRecord[];
}

/**
 * A partial batch response: the records SQS should deliver again. Needs
 * `ReportBatchItemFailures` on the event source mapping; every other record is deleted.
 */
export interface SQSBatchResponse {
  readonly batchItemFailures: ReadonlyArray<{ readonly itemIdentifier: string }>;
}

/** What became of one record; logged as one JSON line. */
export type Outcome =
  | { readonly kind: "started" | "applied"; readonly version: number; readonly completed: boolean }
  | { readonly kind: "duplicate" | "ignored"; readonly reason: string }
  | { readonly kind: "retry"; readonly error: string; readonly retryableAs: string }
  | { readonly kind: "dead-letter"; readonly error: string };

const tableName = process.env.TABLE_NAME;
if (tableName === undefined || tableName === "") throw new Error("TABLE_NAME is not set");
const endpoint = process.env.DYNAMODB_ENDPOINT;

// Created once per execution environment and reused by every invocation. The SDK has no
// request timeout by default: a hung connection would hold the invocation until Lambda ends it.
const client = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    ...(endpoint === undefined ? {} : { endpoint }),
    requestHandler: {
      connectionTimeout: 1_000,
      requestTimeout: 5_000,
      throwOnRequestTimeout: true,
    },
  }),
);
const store = createDynamoDBSagaStore<OrderState>({
  send: sendVia(client),
  tableName,
  // In a bundle the store cannot find @saga-bus/core on its own (esbuild cannot follow its
  // run-time lookup): without these it would throw look-alikes, and saga-bus would
  // dead-letter every version conflict instead of retrying it.
  retryableErrors: { ConcurrencyError, TransientError },
});

/** Messages of network failures, which saga-bus's default error handler also retries. */
const NETWORK_FAILURE = /ECONNRESET|ETIMEDOUT|ECONNREFUSED|EPIPE|socket hang up|timeout|network/i;

/** Why saga-bus would retry this error, or `undefined` when it would dead-letter it. */
export const retryableAs = (error: unknown): string | undefined => {
  if (error instanceof ConcurrencyError) return "ConcurrencyError";
  if (error instanceof TransientError) return "TransientError";
  if (error instanceof Error && NETWORK_FAILURE.test(error.message)) return "network";
  return undefined;
};

const describe = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/** Runs the saga's handler on a loaded state and writes the result at the next version. */
const apply = async (
  messageId: string,
  message: OrderMessage,
  state: OrderState,
): Promise<{
  readonly version: number;
  readonly completed: boolean;
  readonly changed: boolean;
}> => {
  const now = new Date();
  const { newState, isCompleted } = handleMessage(messageId, message, state, now);
  if (newState === state)
    return { version: state.metadata.version, completed: false, changed: false };
  const expectedVersion = state.metadata.version;
  const version = expectedVersion + 1;
  await store.update(
    SAGA_NAME,
    { ...newState, metadata: { ...newState.metadata, version, updatedAt: now, isCompleted } },
    expectedVersion,
  );
  return { version, completed: isCompleted, changed: true };
};

/** One message, as the saga-bus runtime handles it. Throws what the store throws. */
const handleRecord = async (record: SQSRecord): Promise<Outcome> => {
  const message = parseMessage(record.body);
  if (message === undefined) return { kind: "dead-letter", error: "not a message of the saga" };
  const found = await store.getByCorrelationId(SAGA_NAME, message.orderId);
  if (found === null) {
    if (!canStart(message)) {
      // saga-bus drops a message that finds no saga and cannot start one.
      return { kind: "ignored", reason: "no saga, and the message cannot start one" };
    }
    const now = new Date();
    const state = initialState(message, {
      sagaId: randomUUID(),
      version: 0,
      createdAt: now,
      updatedAt: now,
      isCompleted: false,
    });
    await store.insert(SAGA_NAME, message.orderId, state);
    const { version, completed } = await apply(record.messageId, message, state);
    return { kind: "started", version, completed };
  }
  if (found.metadata.isCompleted) return { kind: "ignored", reason: "the saga has completed" };
  const { version, completed, changed } = await apply(record.messageId, message, found);
  return changed
    ? { kind: "applied", version, completed }
    : { kind: "duplicate", reason: "applied before" };
};

/** The Lambda handler: the records of a batch at once, failures retried one by one. */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const outcomes = await Promise.all(
    event.Records.map(async (record): Promise<Outcome> => {
      try {
        return await handleRecord(record);
      } catch (error) {
        const reason = retryableAs(error);
        return reason === undefined
          ? { kind: "dead-letter", error: describe(error) }
          : { kind: "retry", error: describe(error), retryableAs: reason };
      }
    }),
  );
  const batchItemFailures: Array<{ itemIdentifier: string }> = [];
  event.Records.forEach((record, i) => {
    const outcome = outcomes[i];
    if (outcome === undefined) return;
    console.log(
      JSON.stringify({
        messageId: record.messageId,
        receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? "1"),
        ...outcome,
      }),
    );
    if (outcome.kind === "retry") batchItemFailures.push({ itemIdentifier: record.messageId });
    // A dead letter is logged and dropped here; in production send it to your dead-letter
    // queue (or let the queue's redrive policy do it by reporting it as a failure too).
  });
  return { batchItemFailures };
};
