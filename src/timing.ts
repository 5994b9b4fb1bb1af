/**
 * Time and randomness, injectable: waits for a table to become ACTIVE, and the backoff of
 * retried cleanup and migration requests. Tests hand in a `Timing` that records delays and
 * does not wait, instead of patching `setTimeout` and `Math.random`.
 */

/** Where waits and jitter come from. */
export interface Timing {
  /** Resolves after `ms` milliseconds. */
  readonly sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1): the jitter of backoff delays. */
  readonly random: () => number;
  /** Milliseconds since the epoch: deadlines. */
  readonly now: () => number;
}

/** Real time and `Math.random`. */
export const REAL_TIMING: Timing = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
  now: Date.now,
};

/**
 * Full-jitter exponential backoff before attempt `attempt` (1, 2, …): a random delay of up to
 * 50 ms, 100 ms, 200 ms, … capped at 2 s, so that retries of many callers spread out.
 */
export const backoff = (timing: Timing, attempt: number): Promise<void> =>
  timing.sleep(timing.random() * Math.min(2000, 25 * 2 ** attempt));
