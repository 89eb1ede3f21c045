// What a round-robin got, as one list to compare with the backends' names: each pod that answered,
// and each kind of failure in parentheses ("(timeout)"). Exactly the expected names when all is well,
// so a missing backend, an answer from a pod that is no backend, and a failed request all show.
import type { RoundRobin } from './round-robin.js';

export function answered(rr: Pick<RoundRobin, 'seen' | 'failures'>): string[] {
  return [...Object.keys(rr.seen), ...Object.keys(rr.failures).map((kind) => `(${kind})`)].sort();
}
