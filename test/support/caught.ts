/**
 * What a call throws and what a promise rejects with, for tests that look at the error itself
 * (its class, message and fields) rather than only at whether there was one.
 */

/** An error as a test reads it: an `Error`, with whatever fields it carries. */
export type CaughtError = Error & Record<string, unknown>;

/** What `fn` throws (fails the test when it does not throw). */
export const thrown = (fn: () => unknown): CaughtError => {
  try {
    fn();
  } catch (error) {
    return error as CaughtError;
  }
  throw new Error("expected a throw");
};

/** What a promise rejects with (fails the test when it resolves). */
export const rejection = async (promise: Promise<unknown>): Promise<CaughtError> => {
  try {
    await promise;
  } catch (error) {
    return error as CaughtError;
  }
  throw new Error("expected the promise to reject");
};
