/**
 * Fakes for the unit tests of the store: a `send` that answers without a server, errors shaped
 * like the AWS SDK's, and a `Timing` that does not wait.
 */
import type { StoreCommand } from "../../src";
import type { Timing } from "../../src/timing";

/** A fake `send` answering with `handler`; records every command. */
export const fakeSend = (handler: (command: StoreCommand, index: number) => unknown) => {
  const calls: StoreCommand[] = [];
  const send = jest.fn(async (command: StoreCommand) => {
    calls.push(command);
    return handler(command, calls.length - 1);
  });
  return { send, calls };
};

/** A fake `send` giving the answers in order; an Error answer is thrown. */
export const scriptedSend = (...answers: unknown[]) =>
  fakeSend((_command, index) => {
    if (index >= answers.length) throw new Error(`unexpected call #${index + 1}`);
    const answer = answers[index];
    if (answer instanceof Error) throw answer;
    return answer;
  });

/** A fake `send` giving `answer` to every command (an Error answer is thrown). */
export const answeringSend = (answer: unknown) =>
  fakeSend(() => {
    if (answer instanceof Error) throw answer;
    return answer;
  });

/** An error shaped like the ones the AWS SDK throws. */
export const awsError = (name: string, extra: Record<string, unknown> = {}): Error =>
  Object.assign(new Error(`${name}: something happened`), {
    name,
    $metadata: { httpStatusCode: 400 },
    ...extra,
  });

/** A cancelled transaction with these cancellation reasons (one per action). */
export const cancelled = (reasons: Array<Record<string, unknown>>): Error =>
  awsError("TransactionCanceledException", { CancellationReasons: reasons });

/** A `Timing` that records the delays asked for and does not wait; `random` is fixed. */
export const noWaiting = (random = 0) => {
  const delays: number[] = [];
  const timing: Timing = {
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => random,
    now: () => 0,
  };
  return { timing, delays };
};
