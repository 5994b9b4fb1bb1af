/** The store's options are checked when it is created. */
import { createDynamoDBSagaStore, type DynamoDBSagaStoreDeps } from "../../../src";
import { scriptedSend } from "../../support/fake-send";

describe("configuration", () => {
  it.each<[string, Partial<DynamoDBSagaStoreDeps>]>([
    ["a missing table name", { tableName: undefined }],
    ["an invalid table name", { tableName: "a" }],
    ["an invalid index name", { correlationIndexName: "bad name" }],
    ["a send that is not a function", { send: undefined }],
    ["an unknown consistency", { consistency: "sometimes" as "strong" }],
  ])("refuses %s with ConfigurationError options.invalid", (_label, deps) => {
    const { send } = scriptedSend();
    expect(() =>
      createDynamoDBSagaStore({ send, tableName: "sagas", ...deps } as DynamoDBSagaStoreDeps),
    ).toThrow(expect.objectContaining({ name: "ConfigurationError", code: "options.invalid" }));
  });
});
