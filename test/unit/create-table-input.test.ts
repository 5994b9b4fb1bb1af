/** `createTable` takes its options, 0.2.2's `{ tableName, … }`, or `getTableSchema`'s result. */
import { CreateTableCommand, DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { createTable, getTableSchema } from "../../src";
import { recordingTableClient } from "../support/table-client";

/** A client whose table is ACTIVE as soon as it is created; records what was sent. */
const fakeClient = () => {
  const { client, sent } = recordingTableClient((command) =>
    command instanceof DescribeTableCommand
      ? { Table: { TableStatus: "ACTIVE", GlobalSecondaryIndexes: [] } }
      : {},
  );
  return { client, created: () => sent.filter((c) => c instanceof CreateTableCommand) };
};

const createdInput = async (input: Parameters<typeof createTable>[1]) => {
  const { client, created } = fakeClient();
  await createTable(client, input);
  return (created()[0] as CreateTableCommand).input;
};

it.each([
  ["getTableSchema(name)", getTableSchema("sagas")],
  [
    "getTableSchema(name, provisioned, custom index names)",
    getTableSchema("sagas", {
      billingMode: "PROVISIONED",
      provisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
      correlationIndexName: "ByCorrelation",
      cleanupIndexName: "ByCompletion",
    }),
  ],
])("sends exactly the schema it is given: %s", async (_label, schema) => {
  expect(await createdInput(schema)).toEqual(schema);
});

it("accepts a schema that went through JSON (CloudFormation templates, config files)", async () => {
  const schema = JSON.parse(JSON.stringify(getTableSchema("sagas"))) as ReturnType<
    typeof getTableSchema
  >;
  expect(await createdInput(schema)).toEqual(getTableSchema("sagas"));
});

it("accepts 0.2.2's { tableName, correlationIndexName, cleanupIndexName }", async () => {
  const input = await createdInput({
    tableName: "sagas",
    correlationIndexName: "GSI1",
    cleanupIndexName: "GSI2",
  });
  expect(input).toEqual(getTableSchema("sagas"));
});

it("refuses an edited schema before any request", async () => {
  const schema = getTableSchema("sagas");
  const edited = { ...schema, GlobalSecondaryIndexes: schema.GlobalSecondaryIndexes!.slice(1) };
  const { client } = fakeClient();
  await expect(createTable(client, edited)).rejects.toMatchObject({
    name: "ConfigurationError",
    code: "options.invalid",
  });
  expect(client.send).not.toHaveBeenCalled();
});
