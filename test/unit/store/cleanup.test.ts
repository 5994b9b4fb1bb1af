/**
 * `deleteCompletedBefore`: the parallel scan of the cleanup index, batches of saga deletes and
 * then of their correlation items, and what a failed condition leaves alone.
 */
import { BatchExecuteStatementCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import {
  cleanupScanInput,
  deleteCompletedSagasInput,
  deleteCorrelationsInput,
} from "../../../src/commands";
import {
  batchAnswer,
  BEFORE,
  cleanupSend,
  correlationBatches,
  sagaBatches,
  targets,
  victims,
} from "../../support/fake-cleanup";
import { fakeSend } from "../../support/fake-send";
import { makeStore, NAME, TABLE } from "../../support/unit-states";

describe("deleteCompletedBefore", () => {
  it("scans GSI2 in 4 parallel segments, then deletes 60 sagas in batches of at most 25, and their correlation items", async () => {
    const found = victims(60);
    const { send, calls } = cleanupSend(found);
    const count = await makeStore(send).deleteCompletedBefore(NAME, BEFORE);

    expect(count).toBe(60);
    const scans = calls.filter((c): c is ScanCommand => c instanceof ScanCommand);
    expect(scans.map((s) => s.input.Segment).sort()).toEqual([0, 1, 2, 3]);
    for (const scan of scans) {
      expect(scan.input).toEqual(
        cleanupScanInput(TABLE, NAME, BEFORE, { index: scan.input.Segment!, total: 4 }, undefined),
      );
      expect(scan.input).toMatchObject({ TableName: "sagas", IndexName: "GSI2" });
    }

    const sagas = sagaBatches(calls);
    const correlations = correlationBatches(calls);
    expect(sagas.map((b) => b.input.Statements!.length)).toEqual([25, 25, 10]);
    expect(correlations.map((b) => b.input.Statements!.length).sort()).toEqual([10, 25, 25]);
    expect(sagas.map((b) => b.input)).toEqual([
      deleteCompletedSagasInput(TABLE, NAME, found.slice(0, 25), BEFORE),
      deleteCompletedSagasInput(TABLE, NAME, found.slice(25, 50), BEFORE),
      deleteCompletedSagasInput(TABLE, NAME, found.slice(50), BEFORE),
    ]);
    expect(
      correlations.flatMap((b) => b.input.Statements!.map((s) => s.Parameters)).sort(),
    ).toEqual(
      deleteCorrelationsInput(TABLE, NAME, found)
        .Statements!.map((s) => s.Parameters)
        .sort(),
    );
    // Nothing else: no transactions, no single deletes.
    expect(calls).toHaveLength(4 + 3 + 3);
  });

  it("deletes a batch's correlation items only after its sagas' deletes answered", async () => {
    const { send, calls } = cleanupSend(victims(3));
    await makeStore(send, {}).deleteCompletedBefore(NAME, BEFORE, { segments: 1 });
    expect(calls.map((c) => c.constructor.name)).toEqual([
      "ScanCommand",
      "BatchExecuteStatementCommand",
      "BatchExecuteStatementCommand",
    ]);
    expect(targets(calls[1] as BatchExecuteStatementCommand)).toEqual(["ID#s0", "ID#s1", "ID#s2"]);
    expect(targets(calls[2] as BatchExecuteStatementCommand)).toEqual([
      "CORR#c0",
      "CORR#c1",
      "CORR#c2",
    ]);
  });

  it("uses a custom cleanup index name and the segments option", async () => {
    const { send, calls } = cleanupSend([]);
    await makeStore(send, { cleanupIndexName: "ByCompletion" }).deleteCompletedBefore(
      NAME,
      BEFORE,
      { segments: 7 },
    );
    const scans = calls as ScanCommand[];
    expect(scans).toHaveLength(7);
    expect(scans.map((s) => s.input.Segment).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(scans.every((s) => s.input.TotalSegments === 7)).toBe(true);
    expect(scans.every((s) => s.input.IndexName === "ByCompletion")).toBe(true);
  });

  it("drops sagas whose delete failed its condition (reopened or gone): they do not count and keep their correlation items", async () => {
    const found = victims(5);
    const { send, calls } = cleanupSend(found, (sk) =>
      sk === "ID#s1" || sk === "ID#s3" ? "ConditionalCheckFailed" : undefined,
    );
    expect(await makeStore(send).deleteCompletedBefore(NAME, BEFORE)).toBe(3);

    const sagas = sagaBatches(calls);
    expect(sagas).toHaveLength(1); // a failed condition is not retried
    const correlations = correlationBatches(calls);
    expect(correlations).toHaveLength(1);
    expect(correlations[0]!.input).toEqual(
      deleteCorrelationsInput(TABLE, NAME, [found[0]!, found[2]!, found[4]!]),
    );
  });

  it("sends no correlation batch when no saga of the batch was deleted", async () => {
    const { send, calls } = cleanupSend(victims(2), () => "ConditionalCheckFailed");
    expect(await makeStore(send).deleteCompletedBefore(NAME, BEFORE)).toBe(0);
    expect(sagaBatches(calls)).toHaveLength(1);
    expect(correlationBatches(calls)).toHaveLength(0);
  });

  it("counts a saga whose correlation item now names another saga (taken over) and does not retry it", async () => {
    const { send, calls } = cleanupSend(victims(2), (sk) =>
      sk === "CORR#c0" ? "ConditionalCheckFailed" : undefined,
    );
    expect(await makeStore(send).deleteCompletedBefore(NAME, BEFORE)).toBe(2);
    expect(correlationBatches(calls)).toHaveLength(1);
  });

  it("follows LastEvaluatedKey through the pages of a segment", async () => {
    const page2Key = { PK: "x", SK: "y", GSI2PK: "COMPLETED#2024-01-01", GSI2SK: "OrderSaga#s0" };
    const { send, calls } = fakeSend((command) => {
      if (command instanceof BatchExecuteStatementCommand) return batchAnswer(command);
      const scan = command as ScanCommand;
      if (scan.input.Segment !== 0) return { Items: [] };
      return scan.input.ExclusiveStartKey === undefined
        ? { Items: victims(2), LastEvaluatedKey: page2Key }
        : { Items: victims(1, 9) };
    });
    expect(await makeStore(send).deleteCompletedBefore(NAME, BEFORE, { segments: 1 })).toBe(3);
    const scans = calls.filter((c): c is ScanCommand => c instanceof ScanCommand);
    expect(scans.map((s) => s.input.ExclusiveStartKey)).toEqual([undefined, page2Key]);
    expect(scans.every((s) => s.input.TotalSegments === 1)).toBe(true);
    expect(sagaBatches(calls).map(targets)).toEqual([["ID#s0", "ID#s1"], ["ID#s9"]]);
  });

  it("skips scanned items without a saga id or correlation id", async () => {
    const { send, calls } = cleanupSend([
      { sagaId: "s0", correlationId: "c0" },
      { sagaId: "s1" },
      { correlationId: "c2" },
      { sagaId: 3, correlationId: "c3" },
    ]);
    expect(await makeStore(send).deleteCompletedBefore(NAME, BEFORE)).toBe(1);
    expect(sagaBatches(calls).map(targets)).toEqual([["ID#s0"]]);
  });

  it("returns 0 and sends no batch when nothing is found", async () => {
    const onProgress = jest.fn();
    const { send, calls } = cleanupSend([]);
    expect(await makeStore(send).deleteCompletedBefore(NAME, BEFORE, { onProgress })).toBe(0);
    expect(calls.every((c) => c instanceof ScanCommand)).toBe(true);
    expect(onProgress).not.toHaveBeenCalled();
  });
});
