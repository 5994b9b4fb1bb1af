/** The clients and the store a command works with, built from the global options. */
import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Command } from "commander";
import { DEFAULT_INDEX_NAMES, type TableNames } from "../commands.js";
import type { SagaState } from "../contract.js";
import { ConcurrencyError, TransientError } from "../core-link.js";
import { observedTableClient } from "../ensure-gate.js";
import { observed, sendVia, type RequestObserver, type Send } from "../request.js";
import type { TableClient } from "../table.js";
import { createDynamoDBSagaStore, type DynamoDBSagaStoreFunctions } from "../store.js";
import { RegionalFailure, UsageError } from "./errors.js";
import { redactUrls } from "./redact.js";
import type { GlobalOptions } from "./options.js";

/** What a command that talks to DynamoDB gets. */
export interface Connection {
  /**
   * For control-plane commands (create, describe, delete): the client, seen by the tool's
   * request observer with the command's context (`tableClient` below).
   */
  readonly client: TableClient;
  /** The document client itself (prefer `send`, which the tool's observer sees). */
  readonly docClient: DynamoDBDocumentClient;
  /** Data-plane requests outside the store (dry-run scans, the migration), observed. */
  readonly send: Send;
  /** The store over `docClient`, with the table and index names of the options. */
  readonly store: DynamoDBSagaStoreFunctions<SagaState>;
  /** Table and index names, defaults filled in. */
  readonly names: TableNames;
  /** The region the client talks to: `--region`, or the one the SDK resolved. */
  readonly region: string;
}

/** Table and index names of the options, with the store's default index names. */
export const tableNames = (options: GlobalOptions): TableNames => ({
  tableName: options.table,
  correlationIndexName: options.correlationIndex ?? DEFAULT_INDEX_NAMES.correlationIndexName,
  cleanupIndexName: options.cleanupIndex ?? DEFAULT_INDEX_NAMES.cleanupIndexName,
});

/**
 * The client configuration of the options: only what the command line says. The SDK
 * resolves the rest as for any AWS tool: the region from `AWS_REGION`, then from the
 * profile's `region`; credentials from the environment, the profile, SSO or a role.
 */
export const clientConfig = (options: GlobalOptions): DynamoDBClientConfig => ({
  ...(options.region === undefined ? {} : { region: options.region }),
  ...(options.profile === undefined ? {} : { profile: options.profile }),
  ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
});

/**
 * Makes `profile` the process's `AWS_PROFILE` until the returned function restores it. SDKs
 * before 3.714 have no client `profile` setting: given one, they take its credentials but the
 * region of the default profile. `AWS_PROFILE` is what every version reads for both.
 */
const selectProfile = (profile: string | undefined): (() => void) => {
  if (profile === undefined) return () => undefined;
  const before = process.env.AWS_PROFILE;
  process.env.AWS_PROFILE = profile;
  return () => {
    if (before === undefined) delete process.env.AWS_PROFILE;
    else process.env.AWS_PROFILE = before;
  };
};

/**
 * The region the client will use. Resolved before the first request, so that a missing one
 * is a usage error naming where to set it, not the SDK's bare "Region is missing".
 */
const resolveRegion = async (client: DynamoDBClient, options: GlobalOptions): Promise<string> => {
  try {
    return await client.config.region();
  } catch (error) {
    if (!(error instanceof Error) || !/region is missing/i.test(error.message)) throw error;
    const profile = options.profile ?? process.env.AWS_PROFILE ?? "default";
    throw new UsageError(
      `no AWS region: pass --region, set AWS_REGION, or set region in profile ${JSON.stringify(profile)} of ~/.aws/config`,
    );
  }
};

/**
 * Builds a `DynamoDBClient` from the options (see `clientConfig`), its document client and
 * the store, runs `use` with them, and destroys the client afterwards (so no socket keeps
 * the process alive). A failure of `use` comes out as a `RegionalFailure`.
 */
/**
 * The tool's request observer: under `--debug`, one line per request on stderr (operation,
 * DynamoDB command, outcome, milliseconds). Every request of the tool passes it, the store's
 * and the control plane's alike.
 */
export const debugObserver = (write: (line: string) => void): RequestObserver => ({
  onRequest: ({ context, command }) => {
    return (end) => {
      const outcome = end.ok ? "ok" : `failed (${String((end.error as Error)?.name ?? end.error)})`;
      write(
        `request ${context.operation}${context.sagaName === undefined ? "" : ` ${context.sagaName}`} ` +
          `${command} ${outcome} ${end.durationMs.toFixed(0)} ms\n`,
      );
    };
  },
});

export const withConnection = async <T>(
  options: GlobalOptions,
  use: (connection: Connection) => Promise<T>,
  operation = "cli",
): Promise<T> => {
  const restoreProfile = selectProfile(options.profile);
  const client = new DynamoDBClient(clientConfig(options));
  const observer =
    options.debug === true
      ? debugObserver((line) => process.stderr.write(redactUrls(line)))
      : undefined;
  try {
    const region = await resolveRegion(client, options);
    const docClient = DynamoDBDocumentClient.from(client);
    const names = tableNames(options);
    const store = createDynamoDBSagaStore({
      send: sendVia(docClient),
      ...names,
      onRequest: observer,
      // The tool runs no saga-bus handler, so nothing retries by class: the package's own
      // classes do, and looking for core would only warn about bundles on stderr.
      retryableErrors: { ConcurrencyError, TransientError },
    });
    try {
      const tableClient = observedTableClient(client, observer, { operation });
      const direct = sendVia(docClient);
      const send: Send = (command) =>
        observed(observer, { operation }, command, () => direct(command));
      return await use({ client: tableClient, docClient, send, store, names, region });
    } catch (error) {
      throw new RegionalFailure(region, error);
    }
  } finally {
    client.destroy();
    restoreProfile();
  }
};

/**
 * The action of a command that talks to DynamoDB: runs `use` with the command's options (its
 * flags and the global options) and a connection for `operation` (see `withConnection`).
 */
export const connectedAction =
  <TFlags>(
    operation: string,
    use: (options: GlobalOptions & TFlags, connection: Connection) => Promise<void>,
  ) =>
  async (_flags: unknown, command: Command): Promise<void> => {
    const options = command.optsWithGlobals<GlobalOptions & TFlags>();
    await withConnection(options, (connection) => use(options, connection), operation);
  };
