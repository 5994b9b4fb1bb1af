/** The benchmarks' clients and tables on DynamoDB Local. */
import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createTable, deleteTable, meterSend, sendVia, type MeteredSend } from "../src";
import { LOCAL_CLIENT_CONFIG } from "../scripts/dynamodb-local";

/** Sockets of a benchmark's client: more than the SDK's default, for many requests at once. */
export type RequestHandler = DynamoDBClientConfig["requestHandler"];

/**
 * Runs `use` with a client of DynamoDB Local at `endpoint`, and destroys the client
 * afterwards (so that no socket keeps the process alive).
 */
export const withLocalClient = async <T>(
  endpoint: string,
  use: (client: DynamoDBClient) => Promise<T>,
  requestHandler?: RequestHandler,
): Promise<T> => {
  const client = new DynamoDBClient({
    ...LOCAL_CLIENT_CONFIG,
    endpoint,
    ...(requestHandler === undefined ? {} : { requestHandler }),
  });
  try {
    return await use(client);
  } finally {
    client.destroy();
  }
};

/** `send` of a document client over `client`, metered (requests and capacity units). */
export const meteredSend = (client: DynamoDBClient): MeteredSend =>
  meterSend(sendVia(DynamoDBDocumentClient.from(client)));

/**
 * Runs `use` on a fresh table `tableName` (the store's `createTable`, default options) at
 * `endpoint`, with a metered `send`, and deletes the table once `use` has succeeded.
 */
export const onFreshTable = <T>(
  endpoint: string,
  tableName: string,
  use: (metered: MeteredSend) => Promise<T>,
  requestHandler?: RequestHandler,
): Promise<T> =>
  withLocalClient(
    endpoint,
    async (client) => {
      await createTable(client, { tableName });
      const result = await use(meteredSend(client));
      await deleteTable(client, tableName);
      return result;
    },
    requestHandler,
  );
