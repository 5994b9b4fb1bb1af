/**
 * Tables on the DynamoDB Local of the global setup, for one test file: its endpoint, a fresh
 * table with the clients to reach it, and clients for a file that creates tables of its own.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import { createTable, deleteTable, type TableSchemaOptions } from "../../src";
import { LOCAL_CLIENT_CONFIG } from "../../scripts/dynamodb-local";

/** The endpoint of DynamoDB Local, which the integration project's global setup started. */
export const localEndpoint = (): string => {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (endpoint === undefined)
    throw new Error("DYNAMODB_ENDPOINT is not set: run through jest's integration project");
  return endpoint;
};

/** A new client on DynamoDB Local; the caller destroys it. */
export const localClient = (): DynamoDBClient =>
  new DynamoDBClient({ ...LOCAL_CLIENT_CONFIG, endpoint: localEndpoint() });

/** A table of its own for one test file, and the clients to reach it. */
export interface LocalTable {
  readonly tableName: string;
  readonly client: DynamoDBClient;
  readonly docClient: DynamoDBDocumentClient;
  drop(): Promise<void>;
}

/** Connects to DynamoDB Local and creates a uniquely named table. */
export const createLocalTable = async (
  options: TableSchemaOptions & { readonly shards?: number } = {},
): Promise<LocalTable> => {
  const client = localClient();
  const docClient = DynamoDBDocumentClient.from(client);
  const tableName = `sagas-${randomUUID()}`;
  await createTable(client, { tableName, ...options });
  return {
    tableName,
    client,
    docClient,
    drop: async () => {
      await deleteTable(client, tableName);
      client.destroy();
    },
  };
};

/** Clients for a test file that creates tables itself, and names for those tables. */
export interface OwnTables {
  readonly client: DynamoDBClient;
  readonly docClient: DynamoDBDocumentClient;
  /** A new table name, `<prefix>-<uuid>`, deleted after the file's tests if it exists then. */
  newTableName(prefix: string): string;
}

/**
 * Clients on DynamoDB Local for a test file that creates its own tables: after the file's
 * tests, every table named by `newTableName` is deleted and the clients are destroyed. Call
 * it at the top level of the file: it registers that `afterAll`.
 */
export const ownTables = (): OwnTables => {
  const client = localClient();
  const docClient = DynamoDBDocumentClient.from(client);
  const names: string[] = [];
  afterAll(async () => {
    for (const name of names) await deleteTable(client, name);
    client.destroy();
  });
  return {
    client,
    docClient,
    newTableName: (prefix) => {
      const name = `${prefix}-${randomUUID()}`;
      names.push(name);
      return name;
    },
  };
};
