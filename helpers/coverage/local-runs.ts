// Upstream's own tests of the families in LOCAL_RUN_FAMILIES on a local cluster (npm run conformance
// -- --families; its focus is race.ts's upstreamFocus of them): which tests they are (the ledger's
// entries of those families), and each one's outcome written back into its ledger entry (`localCluster`), in place: the
// rest of the file (comments, other entries, others' edits) is left as it is.
import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { LOCAL_RUN_FAMILIES, type FamilyId } from './families.js';
import type { GinkgoCase } from './ginkgo-junit.js';
import type { LedgerEntry, LocalRun, LocalRunMode } from './ledger.js';
import { ledgerName, type UpstreamTest } from './upstream-tests.js';

/** An upstream test of the families, as ginkgo names it and as the ledger does. */
export interface FamilyTest extends UpstreamTest {
  family: FamilyId;
  /** The ledger's key: the title without "[sig-network] ". */
  test: string;
}

/** The upstream tests of `families`, in upstream's order. */
export function familyTests(
  entries: LedgerEntry[],
  upstream: UpstreamTest[],
  families: FamilyId[] = LOCAL_RUN_FAMILIES,
): FamilyTest[] {
  const byKey = new Map(entries.map((e) => [`${e.file}: ${e.test}`, e]));
  return upstream.flatMap((t) => {
    const family = byKey.get(`${t.file}: ${ledgerName(t)}`)?.family;
    return family && families.includes(family) ? [{ ...t, family, test: ledgerName(t) }] : [];
  });
}

/** What to record for a test that did not pass: ginkgo's message, its first line, shortened. */
function reasonOf(found: GinkgoCase | undefined): string {
  if (!found) return "not in ginkgo's report: the run ended before it";
  const line = found.message.split('\n').find((l) => l.trim() !== '') ?? found.state;
  const short = line.trim().replace(/\s+/g, ' ');
  return short.length > 200 ? `${short.slice(0, 199)}…` : short;
}

/**
 * The ledger's text with each test's outcome in `mode` recorded in its entry's localCluster. A
 * reason already there is kept when the test's outcome in this mode is unchanged (it may say more
 * than ginkgo's message); otherwise a test that did not pass gets ginkgo's message as its reason,
 * and a test that passed in every mode loses it.
 */
export function recordLocalRuns(
  ledgerText: string,
  mode: LocalRunMode,
  tests: FamilyTest[],
  cases: GinkgoCase[],
): string {
  const doc = parseDocument(ledgerText);
  for (const test of tests) {
    const entry = entryNode(doc.contents, test);
    const before = (entry.get('localCluster') as YAMLMap | undefined)?.toJSON() as LocalRun | undefined;
    const found = cases.find((c) => c.name === test.title);
    const outcome = found?.outcome ?? 'failed';
    const after: LocalRun = { iptables: before?.iptables, nftables: before?.nftables, [mode]: outcome };
    const keep = before?.reason && before[mode] === outcome;
    const reason = keep ? before.reason : outcome === 'passed' ? before?.reason : reasonOf(found);
    const allPassed = after.iptables === 'passed' && after.nftables === 'passed';
    const recorded = Object.fromEntries(
      Object.entries({ ...after, reason: allPassed ? undefined : reason }).filter(([, v]) => v !== undefined),
    );
    entry.set('localCluster', doc.createNode(recorded));
  }
  return doc.toString({ lineWidth: 0 });
}

function entryNode(contents: unknown, test: FamilyTest): YAMLMap {
  const entries = isMap(contents) ? contents.get(test.file) : undefined;
  const entry = isSeq(entries) ? entries.items.find((e) => isMap(e) && e.get('test') === test.test) : undefined;
  if (!isMap(entry)) throw new Error(`the ledger has no entry for ${test.file}: ${test.test}`);
  return entry as YAMLMap;
}
