/**
 * The one place a command meets the injected `send`: it runs the request, lets the caller
 * recover from the failures it expects (a failed condition), and turns every other failure
 * into the typed error the store throws.
 */
import type {
  BatchExecuteStatementCommand,
  BatchExecuteStatementCommandOutput,
  GetCommand,
  GetCommandOutput,
  QueryCommand,
  QueryCommandOutput,
  ScanCommand,
  ScanCommandOutput,
  TransactWriteCommand,
  TransactWriteCommandOutput,
  UpdateCommand,
  UpdateCommandOutput,
} from "@aws-sdk/lib-dynamodb";
import * as E from "fp-ts/lib/Either.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { pipe } from "fp-ts/lib/function.js";
import { loadRetryableErrors, type RetryableErrorClasses } from "./core-link.js";
import type { SagaStoreErrorInit } from "./errors.js";
import { toStoreError } from "./failures.js";

/** The lib-dynamodb commands the store sends. */
export type StoreCommand =
  | GetCommand
  | QueryCommand
  | ScanCommand
  | UpdateCommand
  | TransactWriteCommand
  | BatchExecuteStatementCommand;

/** What `send` answers for each command. */
export type OutputOf<C extends StoreCommand> = C extends GetCommand
  ? GetCommandOutput
  : C extends QueryCommand
    ? QueryCommandOutput
    : C extends ScanCommand
      ? ScanCommandOutput
      : C extends UpdateCommand
        ? UpdateCommandOutput
        : C extends TransactWriteCommand
          ? TransactWriteCommandOutput
          : BatchExecuteStatementCommandOutput;

/**
 * Performs one command: a `DynamoDBDocumentClient`'s `send` (see `sendVia`), or any
 * function of that shape: a fake in tests, a wrapper that adds tracing or metrics.
 */
export type Send = (command: StoreCommand) => Promise<unknown>;

/** Anything with a document client's `send` method: a `DynamoDBDocumentClient`, a wrapper. */
export interface DocumentClientLike {
  send(command: never): Promise<unknown>;
}

/**
 * A `Send` over a document client. Its `send` is overloaded for each command class, which a
 * union of commands cannot pick, so the one unavoidable cast lives here.
 */
export const sendVia =
  (client: DocumentClientLike): Send =>
  (command) =>
    client.send(command as never);

/**
 * Turns a failure the operation expected into its result (`Right`) or its own error
 * (`Left`); a `Left` holding the raw failure is classified by `toStoreError`.
 */
export type Recover<A> = (error: unknown, classes: RetryableErrorClasses) => E.Either<unknown, A>;

/** Runs one command; throws a typed error for any failure `recover` does not turn into a result. */
export type Perform = <C extends StoreCommand, A = OutputOf<C>>(
  command: C,
  operation: string,
  init: SagaStoreErrorInit,
  recover?: Recover<A>,
) => Promise<OutputOf<C> | A>;

/** Builds `perform` over a `send`, throwing the retryable errors of `classes`. */
export const performer = (
  send: Send,
  classes: Promise<RetryableErrorClasses> = loadRetryableErrors(),
): Perform => {
  const retryable = classes;
  const request = <C extends StoreCommand>(command: C): TE.TaskEither<unknown, OutputOf<C>> =>
    TE.tryCatch(
      () => send(command) as Promise<OutputOf<C>>,
      (error) => error,
    );
  return async (command, operation, init, recover = E.left) => {
    const outcome = await request(command)();
    if (E.isRight(outcome)) return outcome.right;
    const classes = await retryable;
    return pipe(
      recover(outcome.left, classes),
      E.getOrElseW((error) => {
        throw toStoreError(error, operation, init, classes);
      }),
    );
  };
};
