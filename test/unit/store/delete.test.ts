/** `delete`: a strong read of the correlation id, then one transaction for saga and guard. */
import { GetCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { TransientError } from "../../../src";
import { deleteInput } from "../../../src/commands";
import { rejection } from "../../support/caught";
import { awsError, cancelled, scriptedSend } from "../../support/fake-send";
import { CORRELATION_ID, makeStore, NAME, SAGA_ID, TABLE } from "../../support/unit-states";

describe("delete", () => {
  it("reads the correlation id strongly, then deletes saga and guard in one transaction", async () => {
    const { send, calls } = scriptedSend({ Item: { correlationId: CORRELATION_ID } }, {});
    await makeStore(send).delete(NAME, SAGA_ID);

    expect(calls).toHaveLength(2);
    expect(calls[0]).toBeInstanceOf(GetCommand);
    expect(calls[0]!.input).toEqual({
      TableName: "sagas",
      Key: { PK: "SAGA#OrderSaga", SK: "ID#saga-1" },
      ConsistentRead: true,
      ProjectionExpression: "correlationId",
    });
    expect(calls[1]).toBeInstanceOf(TransactWriteCommand);
    expect(calls[1]!.input).toEqual(deleteInput(TABLE, NAME, SAGA_ID, CORRELATION_ID));
  });

  it("is a no-op when the saga is missing (one read, no write)", async () => {
    const { send, calls } = scriptedSend({});
    await expect(makeStore(send).delete(NAME, SAGA_ID)).resolves.toBeUndefined();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeInstanceOf(GetCommand);
  });

  it("ignores a concurrent delete between the read and the transaction", async () => {
    const { send, calls } = scriptedSend(
      { Item: { correlationId: CORRELATION_ID } },
      cancelled([{ Code: "ConditionalCheckFailed" }, { Code: "None" }]),
    );
    await expect(makeStore(send).delete(NAME, SAGA_ID)).resolves.toBeUndefined();
    expect(calls).toHaveLength(2);
  });

  it("turns throttling of the transaction into a TransientError", async () => {
    const original = awsError("ThrottlingException");
    const { send } = scriptedSend({ Item: { correlationId: CORRELATION_ID } }, original);
    const error = await rejection(makeStore(send).delete(NAME, SAGA_ID));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });
});
