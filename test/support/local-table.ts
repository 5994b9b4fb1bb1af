/** Clients and a fresh table per test file, on the DynamoDB Local of the global setup. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import { createTable, deleteTable, type TableSchemaOptions } from "../../src";
import { LOCAL_CLIENT_CONFIG } from "../../scripts/dynamodb-local";

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
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (endpoint === undefined)
    throw new Error("DYNAMODB_ENDPOINT is not set: run through jest's integration project");
  const client = new DynamoDBClient({ ...LOCAL_CLIENT_CONFIG, endpoint });
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
