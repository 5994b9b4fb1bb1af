/**
 * `deleteCompletedBefore` when statements or scans fail: retries of the retryable ones with
 * backoff, up to MAX_ATTEMPTS; the others end the cleanup at once.
 */
import { BatchExecuteStatementCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { DynamoDBRequestError, TransientError } from "../../../src";
import { MAX_ATTEMPTS } from "../../../src/internals";
import {
  batchAnswer,
  BEFORE,
  cleanupSend,
  correlationBatches,
  sagaBatches,
  scanAnswer,
  targets,
  victims,
} from "../../support/fake-cleanup";
import { rejection } from "../../support/caught";
import { awsError, fakeSend, noWaiting } from "../../support/fake-send";
import { makeStore, NAME } from "../../support/unit-states";

describe("deleteCompletedBefore", () => {
  it.each([
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
    "InternalServerError",
    "TransactionConflict",
  ])("retries only the statements that failed with %s", async (code) => {
    const found = victims(3);
    const { send, calls } = cleanupSend(found, (sk, attempt) =>
      sk === "ID#s1" && attempt === 1 ? code : undefined,
    );
    const store = makeStore(send, { timing: noWaiting().timing });
    expect(await store.deleteCompletedBefore(NAME, BEFORE, { segments: 1 })).toBe(3);

    const sagas = sagaBatches(calls);
    expect(sagas.map(targets)).toEqual([["ID#s0", "ID#s1", "ID#s2"], ["ID#s1"]]);
    const correlations = correlationBatches(calls);
    expect(correlations).toHaveLength(1);
    expect(targets(correlations[0]!).sort()).toEqual(["CORR#c0", "CORR#c1", "CORR#c2"]);
  });

  it("retries statements the answer left out (no response for them)", async () => {
    let first = true;
    const { send, calls } = fakeSend((command) => {
      if (command instanceof ScanCommand) return scanAnswer(command, victims(3));
      const answer = batchAnswer(command as BatchExecuteStatementCommand);
      if (first) {
        first = false;
        return { Responses: answer.Responses.slice(0, 1) };
      }
      return answer;
    });
    const store = makeStore(send, { timing: noWaiting().timing });
    expect(await store.deleteCompletedBefore(NAME, BEFORE, { segments: 1 })).toBe(3);
    expect(sagaBatches(calls).map(targets)).toEqual([
      ["ID#s0", "ID#s1", "ID#s2"],
      ["ID#s1", "ID#s2"],
    ]);
  });

  it("retries failed correlation deletes too", async () => {
    const { send, calls } = cleanupSend(victims(2), (sk, attempt) =>
      sk === "CORR#c1" && attempt === 1 ? "ThrottlingError" : undefined,
    );
    const store = makeStore(send, { timing: noWaiting().timing });
    expect(await store.deleteCompletedBefore(NAME, BEFORE, { segments: 1 })).toBe(2);
    expect(correlationBatches(calls).map(targets)).toEqual([["CORR#c0", "CORR#c1"], ["CORR#c1"]]);
  });

  it("throws a TransientError after exactly MAX_ATTEMPTS (8) attempts of a statement that is always throttled, with growing backoff", async () => {
    const { timing, delays } = noWaiting(0.5);
    const { send, calls } = cleanupSend(victims(2), (sk) =>
      sk === "ID#s1" ? "ThrottlingError" : undefined,
    );

    const pending = rejection(
      makeStore(send, { timing }).deleteCompletedBefore(NAME, BEFORE, { segments: 1 }),
    );
    const error = await pending;

    expect(MAX_ATTEMPTS).toBe(8);
    expect(error).toBeInstanceOf(TransientError);
    expect(error.name).toBe("TransientError");
    expect(error.message).toContain(`"${NAME}"`);
    expect(error.cause).toMatchObject({ name: "ThrottlingError" });
    const sagas = sagaBatches(calls);
    expect(sagas).toHaveLength(8);
    expect(sagas.slice(1).map(targets)).toEqual(Array(7).fill(["ID#s1"]));
    // Full jitter (random 0.5 here) of 25 ms × 2^attempt, capped at 2 s.
    expect(delays).toEqual([25, 50, 100, 200, 400, 800, 1000]);
  });

  it.each(["ValidationError", "AccessDenied", "ResourceNotFound"])(
    "throws a DynamoDBRequestError, without retrying, for a statement that failed with %s",
    async (code) => {
      const { send, calls } = cleanupSend(victims(2), (sk) => (sk === "ID#s1" ? code : undefined));
      const error = await rejection(
        makeStore(send).deleteCompletedBefore(NAME, BEFORE, { segments: 1 }),
      );
      expect(sagaBatches(calls)).toHaveLength(1);
      expect(error.message).toContain(code);
      expect(error).not.toBeInstanceOf(TransientError);
      expect(error).toBeInstanceOf(DynamoDBRequestError);
      expect(error).toMatchObject({ code: "request.failed", sagaName: NAME, sagaId: "s1" });
      expect(error.cause).toMatchObject({ name: code, message: `${code} for ID#s1` });
    },
  );

  it("a failure stops the other segments: no further pages or batches once it is thrown", async () => {
    const PAGES = 200;
    const { send, calls } = fakeSend(async (command) => {
      await new Promise((resolve) => setImmediate(resolve));
      if (command instanceof BatchExecuteStatementCommand) {
        return batchAnswer(command, (sk) => (sk === "ID#bad" ? "ValidationError" : undefined));
      }
      const scan = command as ScanCommand;
      if (scan.input.Segment === 0) return { Items: [{ sagaId: "bad", correlationId: "c" }] };
      // Segment 1: many pages of one saga each.
      const page = Number(scan.input.ExclusiveStartKey?.page ?? 0);
      return {
        Items: victims(1, 100 + page),
        ...(page + 1 < PAGES ? { LastEvaluatedKey: { page: page + 1 } } : {}),
      };
    });
    const error = await rejection(
      makeStore(send).deleteCompletedBefore(NAME, BEFORE, { segments: 2 }),
    );
    expect(error).toBeInstanceOf(DynamoDBRequestError);
    const segmentOneScans = () =>
      calls.filter((c) => c instanceof ScanCommand && c.input.Segment === 1).length;
    const sent = calls.length;
    expect(segmentOneScans()).toBeLessThan(10);
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(calls.length).toBe(sent);
  });

  it("turns a throttled scan into a TransientError", async () => {
    const original = awsError("ProvisionedThroughputExceededException");
    const { send } = fakeSend(() => {
      throw original;
    });
    const error = await rejection(makeStore(send).deleteCompletedBefore(NAME, BEFORE));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });
});
