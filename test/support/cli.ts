/** The command-line tool run in-process, as the integration tests drive it. */
import { run } from "../../src/cli/program";
import type { CliIO } from "../../src/cli/io";

/** What one run of the tool did. */
export interface CliOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `saga-store-dynamodb <argv>` in-process and returns its exit code and what it printed
 * (`io` may replace a stream, which then is not captured).
 */
export const runCli = async (
  argv: readonly string[],
  io: Partial<CliIO> = {},
): Promise<CliOutcome> => {
  let stdout = "";
  let stderr = "";
  const code = await run(["node", "saga-store-dynamodb", ...argv], {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    ...io,
  });
  return { code, stdout, stderr };
};
