// The ledger of upstream's sig-network e2e tests (coverage/, npm run coverage) stays whole: every
// upstream test of the pinned version is in it and it names no other, every check it names is a
// check vitest collects, upstream's own run of the local-run families is recorded, and docs/COVERAGE.md
// is what it generates. Needs upstream's sources in the Go module cache, which npm run setup puts there.
import { beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_RUN_FAMILIES } from '../helpers/coverage/families.js';
import { checkedInDoc, readCoverage, type Coverage } from './coverage-ledger.js';

describe('the upstream coverage ledger', () => {
  let coverage: Coverage;

  beforeAll(async () => {
    coverage = await readCoverage();
  }, 180_000);

  it('lists every upstream test of test/e2e/network, names none that upstream lacks, and only checks that exist', () => {
    expect(
      coverage.problems,
      `${coverage.ledger} (npm run coverage says the same):\n${coverage.problems.join('\n')}`,
    ).toEqual([]);
  });

  it("records how upstream's own test of each local-run family fared on a local cluster, in both modes", () => {
    const local = coverage.rows.filter((r) => r.family && LOCAL_RUN_FAMILIES.includes(r.family));
    const unrecorded = local.filter((r) => !r.localCluster?.iptables || !r.localCluster.nftables);
    expect(
      unrecorded.map((r) => `${r.file}: ${r.test}`),
      'run npm run conformance -- --families --record',
    ).toEqual([]);
    expect(local.length).toBeGreaterThan(0);
  });

  it('docs/COVERAGE.md is what npm run coverage writes from the ledger', () => {
    expect(checkedInDoc() === coverage.doc, 'docs/COVERAGE.md is stale: run npm run coverage').toBe(true);
  });
});
