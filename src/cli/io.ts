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

/** The process's stdout and stderr, with a progress bar when stderr is a terminal. */
export const processIO = (): CliIO => ({
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  ...(process.stderr.isTTY ? { progressStream: process.stderr } : {}),
});

/** `value` as the one JSON document a command prints with `--json` (indented, newline-ended). */
export const jsonText = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
