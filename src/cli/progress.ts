/** The cleanup progress bar: drawn on a terminal, nothing otherwise. */
import { Presets, SingleBar } from "cli-progress";
import type { CleanupProgress } from "../cleanup.js";

/** Receives `deleteCompletedBefore`'s progress reports. */
export interface ProgressReporter {
  /** One report: sagas deleted so far, candidates found so far. */
  update(progress: CleanupProgress): void;
  /** Removes the bar (before the final line is printed). */
  stop(): void;
}

const silent: ProgressReporter = { update: () => undefined, stop: () => undefined };

/**
 * A bar on `stream` when it is a terminal: deleted out of candidates found so far (the
 * total grows while the scan goes on). Without a terminal, a reporter that does nothing.
 */
export const progressReporter = (
  stream: NodeJS.WriteStream | undefined,
  label: string,
): ProgressReporter => {
  if (stream === undefined || stream.isTTY !== true) return silent;
  const bar = new SingleBar(
    {
      stream,
      format: `${label} [{bar}] {value}/{total} deleted of candidates found | {duration_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      fps: 10,
    },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update: ({ deleted, scanned }) => {
      if (!started) {
        bar.start(Math.max(scanned, 1), deleted);
        started = true;
        return;
      }
      bar.setTotal(Math.max(scanned, 1));
      bar.update(deleted);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
};
