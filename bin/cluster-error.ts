// A cluster that cannot be made or reached is bad input for the command (exit 2, one line),
// not a failed check: `run` and `scale` open their sessions through this.
import { UsageError } from '../helpers/errors.js';

/** A cluster that cannot be made or reached is exit 2, not a test failure. */
export async function wrapClusterError<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message, { cause: error });
  }
}
