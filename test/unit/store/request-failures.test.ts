/** How failed requests become the store's errors: transient ones retryable, the others not. */
import { DynamoDBRequestError, TransientError } from "../../../src";
import { rejection } from "../../support/caught";
import { awsError, cancelled, scriptedSend } from "../../support/fake-send";
import { CORRELATION_ID, makeState, makeStore, NAME, SAGA_ID } from "../../support/unit-states";

describe("failures of requests", () => {
  it.each<[string, Error]>([
    ["ProvisionedThroughputExceededException", awsError("ProvisionedThroughputExceededException")],
    ["ThrottlingException", awsError("ThrottlingException")],
    ["RequestLimitExceeded", awsError("RequestLimitExceeded")],
    ["an HTTP 500", awsError("UnknownError", { $metadata: { httpStatusCode: 500 } })],
    ["ECONNRESET", Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })],
    ["a TimeoutError", Object.assign(new Error("timed out"), { name: "TimeoutError" })],
  ])("%s becomes a TransientError whose cause is the original error", async (_label, original) => {
    const { send } = scriptedSend(original);
    const error = await rejection(makeStore(send).getById(NAME, SAGA_ID));

    expect(error.name).toBe("TransientError");
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
    expect(error.message).toContain(`saga "${NAME}"`);
  });

  it("a cancelled transaction with a TransactionConflict reason becomes a TransientError", async () => {
    const original = cancelled([{ Code: "TransactionConflict" }, { Code: "None" }]);
    const { send } = scriptedSend(original);
    const error = await rejection(makeStore(send).insert(NAME, CORRELATION_ID, makeState()));

    expect(error.name).toBe("TransientError");
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });

  it("throttling of an update becomes a TransientError too", async () => {
    const original = awsError("ThrottlingException");
    const { send } = scriptedSend(original);
    const error = await rejection(makeStore(send).update(NAME, makeState({}, { version: 1 }), 0));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });

  it("a send that throws synchronously is handled like a rejected one", async () => {
    const original = awsError("ThrottlingException");
    const send = jest.fn((): Promise<unknown> => {
      throw original;
    });
    const error = await rejection(makeStore(send).getById(NAME, SAGA_ID));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });

  it("a rejection with a non-Error value becomes a DynamoDBRequestError carrying it", async () => {
    const send = jest.fn(() => Promise.reject("boom"));
    const error = await rejection(makeStore(send).getById(NAME, SAGA_ID));
    expect(error).toBeInstanceOf(DynamoDBRequestError);
    expect(error.cause).toBe("boom");
    expect(error.message).toContain("getById failed: boom");
  });

  it("a ValidationException becomes a DynamoDBRequestError (not retried)", async () => {
    const original = awsError("ValidationException");
    const { send } = scriptedSend(original);
    const error = await rejection(makeStore(send).getById(NAME, SAGA_ID));

    expect(error).toBeInstanceOf(DynamoDBRequestError);
    expect(error).not.toBeInstanceOf(TransientError);
    expect(error).toMatchObject({
      name: "DynamoDBRequestError",
      code: "request.failed",
      sagaName: NAME,
      sagaId: SAGA_ID,
    });
    expect(error.cause).toBe(original);
    expect(error.message).toContain("ValidationException");
  });
});
