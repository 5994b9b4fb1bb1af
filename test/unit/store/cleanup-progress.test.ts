/** `deleteCompletedBefore`'s progress reports and its bound on requests in flight. */
import { BatchExecuteStatementCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { StoreCommand } from "../../../src";
import { batchAnswer, BEFORE, cleanupSend, victims } from "../../support/fake-cleanup";
import { fakeSend } from "../../support/fake-send";
import { makeStore, NAME } from "../../support/unit-states";

describe("deleteCompletedBefore", () => {
  it("reports progress after every batch: growing deleted counts ending at the total", async () => {
    const found = victims(60);
    const { send } = cleanupSend(found, (sk) =>
      sk === "ID#s7" ? "ConditionalCheckFailed" : undefined,
    );
    const onProgress = jest.fn();
    const count = await makeStore(send).deleteCompletedBefore(NAME, BEFORE, {
      segments: 1,
      concurrency: 1,
      onProgress,
    });
    expect(count).toBe(59);
    expect(onProgress.mock.calls).toEqual([
      [{ deleted: 24, scanned: 60 }],
      [{ deleted: 49, scanned: 60 }],
      [{ deleted: 59, scanned: 60 }],
    ]);
  });

  it("reports progress across parallel segments, never decreasing, ending at the total", async () => {
    const { send } = fakeSend((command) => {
      if (command instanceof BatchExecuteStatementCommand) return batchAnswer(command);
      const scan = command as ScanCommand;
      return { Items: victims(30, scan.input.Segment! * 100) };
    });
    const progress: number[] = [];
    const count = await makeStore(send).deleteCompletedBefore(NAME, BEFORE, {
      onProgress: ({ deleted }) => progress.push(deleted),
    });
    expect(count).toBe(120);
    expect(progress).toHaveLength(8); // 4 segments × (25 + 5)
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(progress.at(-1)).toBe(120);
  });

  it.each([1, 3])("keeps at most %p requests in flight (concurrency)", async (concurrency) => {
    let inFlight = 0;
    let most = 0;
    const send = jest.fn(async (command: StoreCommand) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      if (command instanceof ScanCommand) {
        return { Items: victims(60, command.input.Segment! * 100) };
      }
      return batchAnswer(command as BatchExecuteStatementCommand);
    });
    const count = await makeStore(send).deleteCompletedBefore(NAME, BEFORE, { concurrency });
    expect(count).toBe(240);
    expect(most).toBe(concurrency);
  });
});
