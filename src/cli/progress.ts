/** The progress bar of the bulk commands (cleanup, migrate): drawn on a terminal, nothing otherwise. */
import { Presets, SingleBar } from "cli-progress";

/** Receives a bulk run's progress reports. */
export interface ProgressReporter<TProgress> {
  /** One report. */
  update(progress: TProgress): void;
  /** Removes the bar (before the final line is printed). */
  stop(): void;
}

/** What a bar shows of one report: items done out of items found so far. */
export interface ProgressCount {
  readonly done: number;
  readonly found: number;
}

const silent: ProgressReporter<unknown> = { update: () => undefined, stop: () => undefined };

/**
 * A bar on `stream` when it is a terminal: `label`, then the items done out of those found so
 * far (`count` of each report; the total grows while the scan goes on), described by `what`.
 * Without a terminal, a reporter that does nothing.
 */
export const progressReporter = <TProgress>(
  stream: NodeJS.WriteStream | undefined,
  label: string,
  what: string,
  count: (progress: TProgress) => ProgressCount,
): ProgressReporter<TProgress> => {
  if (stream === undefined || stream.isTTY !== true) return silent;
  const bar = new SingleBar(
    {
      stream,
      format: `${label} [{bar}] {value}/{total} ${what} | {duration_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      fps: 10,
    },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update: (progress) => {
      const { done, found } = count(progress);
      if (!started) {
        bar.start(Math.max(found, 1), done);
        started = true;
        return;
      }
      bar.setTotal(Math.max(found, 1));
      bar.update(done);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
};
