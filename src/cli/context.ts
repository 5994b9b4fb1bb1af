/** The clients and the store a command works with, built from the global options. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DEFAULT_INDEX_NAMES, type TableNames } from "../commands.js";
import type { SagaState } from "../contract.js";
import { sendVia } from "../request.js";
import { createDynamoDBSagaStore, type DynamoDBSagaStoreFunctions } from "../store.js";
import type { GlobalOptions } from "./options.js";

/** What a command that talks to DynamoDB gets. */
export interface Connection {
  /** For control-plane commands (create, describe, delete). */
  readonly client: DynamoDBClient;
  /** For the store and the dry-run scan. */
  readonly docClient: DynamoDBDocumentClient;
  /** The store over `docClient`, with the table and index names of the options. */
  readonly store: DynamoDBSagaStoreFunctions<SagaState>;
  /** Table and index names, defaults filled in. */
  readonly names: TableNames;
}

/** Table and index names of the options, with the store's default index names. */
export const tableNames = (options: GlobalOptions): TableNames => ({
  tableName: options.table,
  correlationIndexName: options.correlationIndex ?? DEFAULT_INDEX_NAMES.correlationIndexName,
  cleanupIndexName: options.cleanupIndex ?? DEFAULT_INDEX_NAMES.cleanupIndexName,
});

/**
 * Builds `DynamoDBClient({ region, endpoint })`, its document client and the store, runs
 * `use` with them, and destroys the client afterwards (so no socket keeps the process alive).
 */
export const withConnection = async <T>(
  options: GlobalOptions,
  use: (connection: Connection) => Promise<T>,
): Promise<T> => {
  const client = new DynamoDBClient({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
  });
  try {
    const docClient = DynamoDBDocumentClient.from(client);
    const names = tableNames(options);
    const store = createDynamoDBSagaStore({ send: sendVia(docClient), ...names });
    return await use({ client, docClient, store, names });
  } finally {
    client.destroy();
  }
};
