// npm run coverage [-- --check]: checks the ledger of upstream's sig-network e2e tests
// (coverage/upstream-v<minor>.yaml) against upstream's sources at the pinned version and the names
// of our checks, prints the counts (covered / partial / not ours / todo, Conformance apart, per
// family) and writes docs/COVERAGE.md. --check writes nothing and fails when the file is stale.
// Exit 0 when the ledger is whole, 1 when it is not (each problem on a line), 2 when upstream's
// sources cannot be read (run npm run setup).
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../helpers/config.js';
import { formatCounts } from '../helpers/coverage/report.js';
import { checkedInDoc, COVERAGE_DOC, readCoverage, type Coverage } from './coverage-ledger.js';

const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });

let coverage: Coverage;
try {
  coverage = await readCoverage();
} catch (error) {
  console.error(`coverage: ${(error as Error).message.split('\n')[0]}`);
  process.exit(2);
}
const doc = relative(repoRoot, COVERAGE_DOC);
if (coverage.problems.length) {
  console.error(`coverage: ${relative(repoRoot, coverage.ledger)} has ${coverage.problems.length} problem(s):`);
  for (const problem of coverage.problems) console.error(`  ${problem}`);
  process.exitCode = 1;
} else {
  console.log(formatCounts(coverage.rows));
  if (values.check) {
    const fresh = checkedInDoc() === coverage.doc;
    console.log(fresh ? `${doc} is up to date` : `${doc} is stale: run npm run coverage`);
    process.exitCode = fresh ? 0 : 1;
  } else {
    writeFileSync(COVERAGE_DOC, coverage.doc);
    console.log(`wrote ${doc}`);
  }
}
