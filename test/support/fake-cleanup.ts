/**
 * A fake DynamoDB for the unit tests of `deleteCompletedBefore` (test/unit/store/cleanup*):
 * scan answers, BatchExecuteStatement answers whose statements can fail with a chosen code,
 * and the saga and correlation batches picked out of the commands sent.
 */
import { BatchExecuteStatementCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { StoreCommand } from "../../src";
import { fakeSend } from "./fake-send";

/** The cleanup cutoff of these tests. */
export const BEFORE = new Date("2024-04-01T00:00:00.000Z");

/** `count` sagas found by the scan: `s<n>` with correlation id `c<n>`, from n = `from`. */
export const victims = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => ({
    sagaId: `s${from + i}`,
    correlationId: `c${from + i}`,
  }));

/** Scan answers: all `items` in segment 0, nothing in the other segments. */
export const scanAnswer = (command: ScanCommand, items: unknown[]) =>
  command.input.Segment === 0 ? { Items: items } : { Items: [] };

/** The sort key (`ID#…` or `CORR#…`) each statement of a batch deletes. */
export const targets = (command: BatchExecuteStatementCommand): string[] =>
  command.input.Statements!.map((s) => s.Parameters![1] as string);

/** A BatchExecuteStatement answer: `codeOf(sortKey)` fails a statement with that code. */
export const batchAnswer = (
  command: BatchExecuteStatementCommand,
  codeOf: (sortKey: string) => string | undefined = () => undefined,
) => ({
  Responses: targets(command).map((sk) => {
    const code = codeOf(sk);
    // A saga delete returns the item it deleted (RETURNING ALL OLD *).
    if (code === undefined)
      return { TableName: "sagas", ...(sk.startsWith("ID#") && { Item: { SK: sk } }) };
    return { TableName: "sagas", Error: { Code: code, Message: `${code} for ${sk}` } };
  }),
});

export const batches = (calls: StoreCommand[]) =>
  calls.filter((c): c is BatchExecuteStatementCommand => c instanceof BatchExecuteStatementCommand);
export const sagaBatches = (calls: StoreCommand[]) =>
  batches(calls).filter((b) => targets(b).every((sk) => sk.startsWith("ID#")));
export const correlationBatches = (calls: StoreCommand[]) =>
  batches(calls).filter((b) => targets(b).every((sk) => sk.startsWith("CORR#")));

/** A fake DynamoDB: segment 0 finds `found`; batch statements fail with `codeOf`. */
export const cleanupSend = (
  found: unknown[],
  codeOf?: (sortKey: string, attempt: number) => string | undefined,
) => {
  const attempts = new Map<string, number>();
  return fakeSend((command) => {
    if (command instanceof ScanCommand) return scanAnswer(command, found);
    if (command instanceof BatchExecuteStatementCommand) {
      return batchAnswer(command, (sk) => {
        const attempt = (attempts.get(sk) ?? 0) + 1;
        attempts.set(sk, attempt);
        return codeOf?.(sk, attempt);
      });
    }
    throw new Error(`unexpected ${command.constructor.name}`);
  });
};
