/** A control-plane client for tests of table management that records what it is sent. */
import type { TableClient } from "../../src";

/** A command a `TableClient` is sent. */
export type TableCommand = Parameters<TableClient["send"]>[0];

/**
 * A `TableClient` (its `send` a jest mock) that records every command and answers with
 * `answer` (forward to a real client, or fake one); an error `answer` throws is a rejection.
 */
export const recordingTableClient = (answer: (command: TableCommand) => unknown = () => ({})) => {
  const sent: TableCommand[] = [];
  const client: TableClient = {
    send: jest.fn((command: TableCommand) => {
      sent.push(command);
      return Promise.resolve().then(() => answer(command));
    }),
  };
  return { client, sent };
};
