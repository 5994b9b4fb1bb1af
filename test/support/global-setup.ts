/** Jest global setup of the integration project: one DynamoDB Local for the whole run. */
import { startDynamoDBLocal } from "../../scripts/dynamodb-local";

export default async function globalSetup(): Promise<void> {
  const local = await startDynamoDBLocal();
  // Workers are forked after this runs, so they inherit the endpoint.
  process.env.DYNAMODB_ENDPOINT = local.endpoint;
  (globalThis as { __dynamoDBLocal__?: typeof local }).__dynamoDBLocal__ = local;
}
