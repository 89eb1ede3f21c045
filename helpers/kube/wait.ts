// The one polling primitive: waitFor asks a condition again and again (p-retry, growing
// pauses) until it holds or the budget is spent, then fails with what it waited for and
// what it saw last: `Node svc-node-1 Ready not reached after 60000ms; last seen: NotReady`.
// Pauses stop growing at 0.5 s: a pod that became ready is seen within half a second.
// (retries is finite on purpose: p-retry precomputes one delay per retry; the budget is
// what ends the wait.)
import pRetry, { AbortError } from 'p-retry';

let tracing = false;

/** SVC_TRACE=1: print how long each wait took, to see where a spec's time goes. */
export function traceWaits(on: boolean): void {
  tracing = on;
}

export interface Observation<T> {
  /** The condition holds; `value` is what the caller gets back. */
  done: boolean;
  /** What was seen, in words, for the timeout message. */
  seen: string;
  value?: T;
}

export class WaitTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly budgetMs: number,
    readonly lastSeen: string,
  ) {
    super(`${what} not reached after ${budgetMs}ms; last seen: ${lastSeen}`);
    this.name = 'WaitTimeoutError';
  }
}

/** Stops waiting at once (e.g. a pod went CrashLoopBackOff): thrown from a condition. */
export class GiveUp extends AbortError {}

export async function waitFor<T>(what: string, budgetMs: number, check: () => Promise<Observation<T>>): Promise<T> {
  let lastSeen = 'nothing yet';
  let gaveUp: AbortError | undefined;
  const started = Date.now();
  try {
    const value = await pRetry(
      async () => {
        let observation: Observation<T>;
        try {
          observation = await check();
        } catch (error) {
          if (error instanceof AbortError) throw (gaveUp = error);
          lastSeen = error instanceof Error ? error.message.split('\n')[0] : String(error);
          throw error;
        }
        lastSeen = observation.seen;
        if (!observation.done) throw new Error(observation.seen);
        return observation.value as T;
      },
      { retries: 10_000, minTimeout: 150, maxTimeout: 500, factor: 1.5, maxRetryTime: budgetMs, randomize: false },
    );
    if (tracing) console.error(`[wait ${((Date.now() - started) / 1000).toFixed(2)}s] ${what}`);
    return value;
  } catch (error) {
    // p-retry rejects with an AbortError's originalError: the condition's GiveUp is thrown as it was.
    if (gaveUp) throw gaveUp;
    if (error instanceof AbortError) throw error;
    throw new WaitTimeoutError(what, Math.max(budgetMs, Date.now() - started), lastSeen);
  }
}
