/** Where the command-line tool writes: the process's streams, or captured text in tests. */

/** The tool's output channels. */
export interface CliIO {
  /** Results (JSON, reports). Receives text that ends in a newline. */
  readonly stdout: (text: string) => void;
  /** Errors, usage messages and notes. Receives text that ends in a newline. */
  readonly stderr: (text: string) => void;
  /**
   * A terminal to draw the cleanup progress bar on. Absent (as with captured output, or a
   * stderr that is not a TTY): no bar, just the final line.
   */
  readonly progressStream?: NodeJS.WriteStream;
}

/** Streams with the `EPIPE` listener, and those whose reader has gone. */
const watched = new WeakSet<NodeJS.WriteStream>();
const closed = new WeakSet<NodeJS.WriteStream>();

/**
 * Lets writes to `stream` end quietly once its reader has gone (`… | head`, `… | jq -e` that
 * stopped early): the rest of the output has nowhere to go, which is no failure of the
 * command. Node would otherwise crash on the unhandled `EPIPE`. Other errors still throw.
 */
const toleratingClosedPipe = (stream: NodeJS.WriteStream): ((text: string) => void) => {
  if (!watched.has(stream)) {
    watched.add(stream);
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
      closed.add(stream);
    });
  }
  return (text) => {
    if (!closed.has(stream)) stream.write(text);
  };
};

/** The process's stdout and stderr, with a progress bar when stderr is a terminal. */
export const processIO = (): CliIO => ({
  stdout: toleratingClosedPipe(process.stdout),
  stderr: toleratingClosedPipe(process.stderr),
  ...(process.stderr.isTTY ? { progressStream: process.stderr } : {}),
});

/** `value` as the one JSON document a command prints with `--json` (indented, newline-ended). */
export const jsonText = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
