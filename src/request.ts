/**
 * The one place a command meets the injected `send`. Each request carries its context (the
 * store operation and the saga it concerns); an observer sees every request with that context
 * (for metrics or tracing), the caller may recover from the failures it expects (a failed
 * condition), and every other failure becomes the typed error the store throws.
 *
 * fp-ts: `Recover` answers an `Either` (a recovered result, or the failure to classify): a
 * sum type that says what a callback may do. The request itself is a plain `await`, because
 * a `TaskEither` run at once would only decorate it.
 */
import {
  BatchExecuteStatementCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type BatchExecuteStatementCommandOutput,
  type GetCommandOutput,
  type QueryCommandOutput,
  type ScanCommandOutput,
  type TransactWriteCommandOutput,
  type UpdateCommandOutput,
} from "@aws-sdk/lib-dynamodb";
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand as LowLevelScanCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { loadRetryableErrors, type RetryableErrorClasses } from "./core-link.js";
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

/** What a request is for: the store operation and the saga it concerns. */
export interface RequestContext {
  /** `insert`, `update`, `getByCorrelationId`, `deleteCompletedBefore`, `ensureTable`, … */
  readonly operation: string;
  readonly sagaName?: string | undefined;
  readonly sagaId?: string | undefined;
  readonly correlationId?: string | undefined;
}

/** DynamoDB's name of the operation a command performs (`GetItem`, `TransactWriteItems`, …). */
export type CommandName =
  | "GetItem"
  | "Query"
  | "Scan"
  | "UpdateItem"
  | "TransactWriteItems"
  | "BatchExecuteStatement"
  | (string & {});

/** The control-plane (and low-level) commands of `ensureTable` and the CLI, by class. */
const CONTROL_PLANE: ReadonlyArray<readonly [abstract new (...args: never[]) => unknown, string]> =
  [
    [DescribeTableCommand, "DescribeTable"],
    [CreateTableCommand, "CreateTable"],
    [UpdateTableCommand, "UpdateTable"],
    [DeleteTableCommand, "DeleteTable"],
    [DescribeTimeToLiveCommand, "DescribeTimeToLive"],
    [UpdateTimeToLiveCommand, "UpdateTimeToLive"],
    [GetItemCommand, "GetItem"],
    [PutItemCommand, "PutItem"],
    [LowLevelScanCommand, "Scan"],
  ];

/**
 * The operation a command performs, told by its class (not by `constructor.name`, which a
 * minifier renames).
 */
export const commandName = (command: unknown): CommandName => {
  if (command instanceof GetCommand) return "GetItem";
  if (command instanceof QueryCommand) return "Query";
  if (command instanceof ScanCommand) return "Scan";
  if (command instanceof UpdateCommand) return "UpdateItem";
  if (command instanceof TransactWriteCommand) return "TransactWriteItems";
  if (command instanceof BatchExecuteStatementCommand) return "BatchExecuteStatement";
  // Not sent by the store, but by code metered with `meterSend` (0.2.2 in the benchmarks).
  if (command instanceof PutCommand) return "PutItem";
  if (command instanceof DeleteCommand) return "DeleteItem";
  return CONTROL_PLANE.find(([commandClass]) => command instanceof commandClass)?.[1] ?? "Unknown";
};

/** One request, as an observer sees it before it is sent. */
export interface RequestStart {
  readonly context: RequestContext;
  readonly command: CommandName;
  /** The command's input (read it; the store owns it). */
  readonly input: unknown;
}

/**
 * How one request ended: the answer, or the failure as DynamoDB or the SDK raised it. Both
 * are the SDK's own objects and may carry whole saga items, state values included: observers
 * should record names, codes and counts, not the objects.
 */
export type RequestEnd =
  | { readonly ok: true; readonly output: unknown; readonly durationMs: number }
  | { readonly ok: false; readonly error: unknown; readonly durationMs: number };

/**
 * Sees every request of a store, with its context: metrics, tracing, logs. `onRequest` is
 * called before each request; the function it returns, if any, when it ends (so a span can
 * start and end around it).
 */
export interface RequestObserver {
  /** Ask DynamoDB to report consumed capacity (`ReturnConsumedCapacity: "TOTAL"`). */
  readonly consumedCapacity?: boolean;
  onRequest(request: RequestStart): ((end: RequestEnd) => void) | void;
}

/**
 * Turns a failure the operation expected into its result (`Right`) or its own error
 * (`Left`); a `Left` holding the raw failure is classified by `toStoreError`.
 */
export type Recover<A> = (error: unknown, classes: RetryableErrorClasses) => E.Either<unknown, A>;

/** Runs one command; throws a typed error for any failure `recover` does not turn into a result. */
export type Perform = <C extends StoreCommand, A = OutputOf<C>>(
  context: RequestContext,
  command: C,
  recover?: Recover<A>,
) => Promise<OutputOf<C> | A>;

/** What `performer` needs besides `send`. */
export interface PerformerOptions {
  /** The retryable error classes to throw. Default: `loadRetryableErrors()`. */
  readonly classes?: Promise<RetryableErrorClasses>;
  readonly observer?: RequestObserver | undefined;
}

/**
 * Sends `command` through `send`, telling `observer` (if any) before and after. Shared by the
 * data plane (`performer`) and the control plane (`observedTableClient`).
 */
export const observed = async <T>(
  observer: RequestObserver | undefined,
  context: RequestContext,
  command: { readonly input: unknown },
  send: () => Promise<T>,
): Promise<T> => {
  if (observer === undefined) return send();
  if (observer.consumedCapacity === true) {
    (command.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = "TOTAL";
  }
  const end = observer.onRequest({ context, command: commandName(command), input: command.input });
  const started = performance.now();
  try {
    const output = await send();
    end?.({ ok: true, output, durationMs: performance.now() - started });
    return output;
  } catch (error) {
    end?.({ ok: false, error, durationMs: performance.now() - started });
    throw error;
  }
};

/** Builds `perform` over a `send`, throwing the retryable errors of `options.classes`. */
export const performer = (send: Send, options: PerformerOptions = {}): Perform => {
  const retryable = options.classes ?? loadRetryableErrors();
  const { observer } = options;
  return async <C extends StoreCommand, A = OutputOf<C>>(
    context: RequestContext,
    command: C,
    recover: Recover<A> = E.left,
  ): Promise<OutputOf<C> | A> => {
    let failure: unknown;
    try {
      return (await observed(observer, context, command, () => send(command))) as OutputOf<C>;
    } catch (error) {
      failure = error;
    }
    const classes = await retryable;
    return pipe(
      recover(failure, classes),
      E.getOrElseW((error): never => {
        throw toStoreError(error, context.operation, context, classes);
      }),
    );
  };
};
