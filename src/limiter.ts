/** Bounded parallelism for the store's bulk work (cleanup, migration). */

/** A counting semaphore: at most `limit` tasks run at once; the others wait their turn. */
export const limiter = (limit: number) => {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
};
