/** What a table on DynamoDB Local holds for one saga name, read straight from DynamoDB. */
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { LocalTable } from "./local-table";

/** Every item of one saga name (saga and correlation items), by a strongly consistent scan. */
export const sagaItems = async (
  table: Pick<LocalTable, "docClient" | "tableName">,
  sagaName: string,
): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await table.docClient.send(
      new ScanCommand({
        TableName: table.tableName,
        ConsistentRead: true,
        FilterExpression: "PK = :pk",
        ExpressionAttributeValues: { ":pk": `SAGA#${sagaName}` },
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return items;
};
