/** Jest global teardown: stops the DynamoDB Local that the global setup started. */
import type { DynamoDBLocal } from "../../scripts/dynamodb-local";

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __dynamoDBLocal__?: DynamoDBLocal }).__dynamoDBLocal__?.stop();
}
