/**
 * Shutdown of the demo: what it started is stopped on a normal exit, on an error and on
 * Ctrl-C (SIGINT, exit 130) or SIGTERM (exit 143), whichever comes first, exactly once.
 *
 * @packageDocumentation
 */

/** A cleanup step: stop a server, delete a table, close a client. */
export type TeardownTask = () => void | Promise<void>;

/** Exit codes of the conventional `128 + signal number`. */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/** How long a signal waits for the teardown before exiting anyway. */
const SIGNAL_TEARDOWN_TIMEOUT_MS = 15_000;

/**
 * Cleanup steps, run in reverse order of registration, once. Each step's failure is
 * reported and does not keep the others from running.
 */
export class Teardown {
  readonly #tasks: Array<{ name: string; task: TeardownTask }> = [];
  readonly #lastResort: Array<() => void> = [];
  #running: Promise<void> | undefined;

  constructor(private readonly log: (line: string) => void) {
    // Whatever happens, a server the demo started must not outlive it: `exit` handlers may
    // only do synchronous work, so they get the last-resort kills.
    process.once("exit", () => {
      for (const kill of this.#lastResort) kill();
    });
  }

  /** Registers a step; steps run last-registered first. */
  add(name: string, task: TeardownTask): void {
    this.#tasks.push({ name, task });
  }

  /** Registers a synchronous step for the process's `exit` event (e.g. SIGKILL a child). */
  addLastResort(kill: () => void): void {
    this.#lastResort.push(kill);
  }

  /** Runs every step once; later calls wait for the same run. */
  run(): Promise<void> {
    this.#running ??= (async () => {
      for (const { name, task } of this.#tasks.reverse()) {
        try {
          await task();
        } catch (error) {
          this.log(`cleanup: ${name} failed: ${error instanceof Error ? error.message : error}`);
        }
      }
    })();
    return this.#running;
  }
}

/**
 * A signal this soon after the first is the same Ctrl-C delivered twice (the terminal
 * signals the whole process group, and tsx's parent process may relay it once more).
 */
const REPEAT_WINDOW_MS = 1000;

/** What the main flow learns of a signal. */
export interface Interruption {
  /** Aborted on the first SIGINT/SIGTERM: long phases stop, and the flow bails out. */
  readonly signal: AbortSignal;
  /** 130/143 once a signal arrived, `undefined` before. */
  readonly exitCode: number | undefined;
}

/**
 * On SIGINT/SIGTERM: aborts the returned signal, calls `beforeTeardown` (stop drawing
 * progress), runs the teardown and exits with 130/143. Another signal later than
 * {@link REPEAT_WINDOW_MS} exits at once (the `exit` handler still kills DynamoDB Local).
 */
export const exitOnSignals = (teardown: Teardown, beforeTeardown: () => void): Interruption => {
  const controller = new AbortController();
  let receivedAt: number | undefined;
  let exitCode: number | undefined;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      const code = SIGNAL_EXIT_CODES[signal];
      if (receivedAt !== undefined) {
        if (Date.now() - receivedAt > REPEAT_WINDOW_MS) process.exit(code);
        return;
      }
      receivedAt = Date.now();
      exitCode = code;
      controller.abort(new Error(`interrupted by ${signal}`));
      beforeTeardown();
      process.stderr.write(`\n${signal}: stopping…\n`);
      const timeout = setTimeout(() => process.exit(code), SIGNAL_TEARDOWN_TIMEOUT_MS);
      timeout.unref();
      void teardown.run().finally(() => process.exit(code));
    });
  }
  return {
    signal: controller.signal,
    get exitCode() {
      return exitCode;
    },
  };
};
