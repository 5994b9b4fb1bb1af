/**
 * Progress while the demo runs: one updating line (cli-progress) on a terminal, plain lines
 * every few seconds otherwise (CI logs, pipes). Both go to stderr; the summary goes to stdout.
 *
 * @packageDocumentation
 */
import { Presets, SingleBar } from "cli-progress";

/** What a progress display shows at one moment. */
export interface ProgressReading {
  readonly value: number;
  /** Short text after the counts: the figures that matter for this phase. */
  readonly detail: string;
}

/** Options of {@link trackProgress}. */
export interface ProgressOptions {
  readonly label: string;
  readonly total: number;
  /** Unit of the counts ("messages", "sagas"). */
  readonly unit: string;
  /** Read on every refresh. */
  readonly read: () => ProgressReading;
  /** Default `process.stderr`. */
  readonly stream?: NodeJS.WriteStream;
  /** Force plain lines (default: plain unless `stream` is a terminal). */
  readonly plain?: boolean;
  /** Seconds between plain lines. Default 2. */
  readonly plainIntervalSeconds?: number;
}

/** A running display. */
export interface ProgressTracker {
  /** Renders a last time and stops; idempotent (the signal handlers call it too). */
  stop(): void;
}

const percent = (value: number, total: number): string =>
  total === 0 ? "100" : Math.min(100, Math.floor((value / total) * 100)).toString();

/** Whether to draw a bar on `stream`. */
export const isInteractive = (stream: NodeJS.WriteStream = process.stderr): boolean =>
  stream.isTTY === true && process.env.TERM !== "dumb" && process.env.CI === undefined;

/** Starts showing progress; call `stop()` when the phase ends. */
export const trackProgress = (options: ProgressOptions): ProgressTracker => {
  const { label, total, unit, read } = options;
  const stream = options.stream ?? process.stderr;
  const started = Date.now();
  let stopped = false;

  if (!(options.plain ?? !isInteractive(stream))) {
    const bar = new SingleBar(
      {
        format: `${label} {bar} {percentage}% | {value}/{total} ${unit} | {detail} | {duration_formatted}`,
        stream,
        hideCursor: true,
        barsize: 24,
        fps: 10,
        clearOnComplete: false,
      },
      Presets.shades_classic,
    );
    bar.start(Math.max(total, 1), 0, { detail: read().detail }); // a zero total shows NaN %
    const timer = setInterval(() => {
      const { value, detail } = read();
      bar.update(value, { detail });
    }, 100);
    timer.unref();
    return {
      stop: () => {
        if (stopped) return;
        stopped = true;
        clearInterval(timer);
        const { value, detail } = read();
        bar.update(value, { detail });
        bar.stop();
      },
    };
  }

  const line = () => {
    const { value, detail } = read();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    stream.write(
      `${label}: ${value}/${total} ${unit} (${percent(value, total)}%) | ${detail} | ${seconds} s\n`,
    );
  };
  line();
  const timer = setInterval(line, (options.plainIntervalSeconds ?? 2) * 1000);
  timer.unref();
  return {
    stop: () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      line();
    },
  };
};
