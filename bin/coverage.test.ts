// The ledger of upstream's sig-network e2e tests (coverage/, npm run coverage) stays whole: every
// upstream test of the pinned version is in it and it names no other, every check it names is a
// check vitest collects, and docs/COVERAGE.md is what it generates. Needs upstream's sources in the
// Go module cache, which npm run setup puts there.
import { beforeAll, describe, expect, it } from 'vitest';
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

  it('docs/COVERAGE.md is what npm run coverage writes from the ledger', () => {
    expect(checkedInDoc() === coverage.doc, 'docs/COVERAGE.md is stale: run npm run coverage').toBe(true);
  });
});
