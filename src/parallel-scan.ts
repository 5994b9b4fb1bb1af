/**
 * The parallel scan of the store's bulk work (cleanup, migration): segments that page through
 * the table at once and stop together on the first failure.
 */

/** One part of a parallel scan: `Segment` and `TotalSegments` of a `Scan`. */
export interface Segment {
  readonly index: number;
  readonly total: number;
}

/** Where a scan goes on: the last page's `LastEvaluatedKey`; `undefined` at the start and end. */
export type StartKey = Record<string, unknown> | undefined;

/**
 * The stop signal of one run: set by the first failure of the work it watches, so that the
 * rest of the run stops instead of running on.
 */
export interface StopSignal {
  /** Whether some watched work failed. */
  readonly stopped: boolean;
  /** `work`, which sets `stopped` when it fails (and fails as it did). */
  stopOnFailure<T>(work: Promise<T>): Promise<T>;
}

/** A signal that nothing has set yet. */
export const stopSignal = (): StopSignal => {
  let stopped = false;
  return {
    get stopped() {
      return stopped;
    },
    stopOnFailure: (work) =>
      work.catch((error: unknown) => {
        stopped = true;
        throw error;
      }),
  };
};

/**
 * Waits until every promise has settled, then throws the first failure (in the order given),
 * if any. Unlike `Promise.all`, it ends only once nothing of `work` is in flight.
 */
export const settleAll = async (work: readonly Promise<unknown>[]): Promise<void> => {
  const outcomes = await Promise.allSettled(work);
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
  if (failure !== undefined) throw failure.reason;
};

/**
 * Scans `total` segments at once. Each calls `page` with its segment and the key to go on
 * from, and goes on with the key it answers until that is `undefined`, or until `signal` is
 * stopped (checked before each page). A failing segment stops the others; the scan then
 * fails with the first failure once every segment has ended.
 */
export const scanSegments = (
  total: number,
  signal: StopSignal,
  page: (segment: Segment, startKey: StartKey) => Promise<StartKey>,
): Promise<void> => {
  const scanSegment = async (index: number): Promise<void> => {
    let startKey: StartKey;
    do {
      if (signal.stopped) return;
      startKey = await page({ index, total }, startKey);
    } while (startKey !== undefined);
  };
  return settleAll(Array.from({ length: total }, (_, i) => signal.stopOnFailure(scanSegment(i))));
};
