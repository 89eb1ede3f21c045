// What the bench races against upstream (npm run bench -- --only upstream): the upstream tests the
// ledger counts as covered, and the checks of ours that cover them. The set grows with the ledger.
import type { LedgerEntry } from './ledger.js';
import { ledgerName, type UpstreamTest } from './upstream-tests.js';

export interface RacedTest {
  /** Upstream's full title, as ginkgo's --focus matches it. */
  title: string;
  file: string;
  line: number;
  conformance: boolean;
  /** Our checks that cover it, by full vitest name. */
  checks: string[];
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The covered upstream tests at the pinned version, in upstream's order. The [Disruptive] ones are
 * left out of the race: upstream runs them alone, and on our local cluster they skip (kube-proxy and
 * the API server are not pods there, and the rules flush needs SSH), so they would race nothing.
 */
export function coveredOf(upstream: UpstreamTest[], entries: LedgerEntry[]): RacedTest[] {
  const covered = new Map(
    entries.filter((e) => e.status === 'covered').map((e) => [`${e.file}: ${e.test}`, e.checks ?? []]),
  );
  const raced = upstream
    .filter((t) => covered.has(`${t.file}: ${ledgerName(t)}`))
    .map((t) => ({ ...t, checks: covered.get(`${t.file}: ${ledgerName(t)}`)! }));
  if (raced.length !== covered.size)
    throw new Error('the ledger counts as covered a test upstream does not have; npm run coverage names it');
  return raced.filter(
    (t) => !upstream.find((u) => u.file === t.file && u.line === t.line)?.labels.includes('Disruptive'),
  );
}

/**
 * ginkgo's --focus for the raced tests: each title escaped and anchored at its end (ginkgo matches
 * the suite's name, a space and the title, so a title that starts another's selects only itself),
 * and checked to select only itself among upstream's tests (a title that ends another's would race
 * a test the ledger did not count).
 */
export function upstreamFocus(raced: Pick<RacedTest, 'title'>[], upstream: UpstreamTest[]): string {
  for (const test of raced) {
    const also = upstream.filter((t) => t.title !== test.title && t.title.endsWith(test.title));
    if (also.length) throw new Error(`focusing "${test.title}" would also run "${also[0].title}"`);
  }
  return raced.map((t) => `${escapeRe(t.title)}$`).join('|');
}

/**
 * svc-conformance run --focus for the checks that cover the raced tests: each full name, whole. The
 * ledger names checks as collected on the default cluster (svc); a check named after a node
 * (svc-node-1) is renamed to the raced cluster's node.
 */
export function oursFocus(raced: RacedTest[], clusterName = 'svc'): string {
  const names = new Set(
    raced.flatMap((t) => t.checks).map((name) => name.replace(/\bsvc-node-(\d+)\b/g, `${clusterName}-node-$1`)),
  );
  return [...names].map((name) => `^${escapeRe(name)}$`).join('|');
}
