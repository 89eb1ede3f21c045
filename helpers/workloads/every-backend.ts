// Whether a Service reaches every one of its endpoints on each path (a vantage to an address):
// upstream's "Granular Checks" ask that of every path, not that each answer is a backend. One
// bounded round-robin per path, all at once, and nothing retried past it: a backend that never
// answered, an answer from something that is no backend, or a failed try each names its path.
import type { BackendPod } from './backends.js';
import { groupByPath, pathVerdict } from './node-paths.js';
import { describeDistribution, roundRobinWith } from './round-robin.js';
import type { Protocol, Vantage } from './vantage.js';

/** An address a check sends to, and what a failure calls it: "its ClusterIP", "the NodePort of node-2". */
export interface Destination {
  what: string;
  address: string;
}

/**
 * One line per path (each of `from` to each of `to`, over `protocol`) on which not every one of
 * `backends` answered (each answers with its `name`), something else answered or a try failed; [] when none.
 */
export async function everyBackendProblems(
  from: Vantage[],
  protocol: Protocol,
  to: Destination[],
  backends: BackendPod[],
): Promise<string[]> {
  const expected = backends.map((p) => p.name);
  const paths = from.flatMap((vantage) => to.map((destination) => ({ vantage, destination })));
  const results = await Promise.all(
    paths.map(({ vantage, destination }) =>
      roundRobinWith(destination.address, expected, (count) => vantage.ask(protocol, destination.address, count)),
    ),
  );
  return paths.flatMap(({ vantage, destination }, i) => {
    const rr = results[i];
    if (!rr.missing.length && !rr.unexpected.length && !Object.keys(rr.failures).length) return [];
    const verdict = pathVerdict(groupByPath(backends, vantage.node), new Set(rr.missing));
    return [
      `${protocol} to ${destination.what} ${destination.address} from ${vantage.where}: ${verdict}; ${describeDistribution(rr)}`,
    ];
  });
}
