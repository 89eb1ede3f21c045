// A probe asked again until its result is the one wanted, for checks that judge the last result
// themselves: unlike waitFor, running out of budget is not an error here, so the spec's own
// expectation says what was seen, in its section's words.
import { waitFor } from './wait.js';

/**
 * Runs `probe` until `done(result)` holds or `budgetMs` is spent (waitFor's pauses), and returns
 * the last result either way. `describe` says a result in words for SVC_TRACE and the wait's record.
 */
export async function probeUntil<T>(
  what: string,
  budgetMs: number,
  probe: () => Promise<T>,
  done: (result: T) => boolean,
  describe: (result: T) => string = (result) => JSON.stringify(result),
): Promise<T> {
  let last: T | undefined;
  try {
    await waitFor(what, budgetMs, async () => {
      last = await probe();
      return { done: done(last), seen: describe(last) };
    });
  } catch (error) {
    if (last === undefined) throw error; // the probe itself never ran to the end: nothing to judge
  }
  return last!;
}
