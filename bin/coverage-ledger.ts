// The ledger of upstream's sig-network e2e tests put together for `npm run coverage` and its unit
// test: upstream's tests at the pinned version, the checked-in ledger, the names vitest gives our
// checks (collected on the default cluster: one node named svc, as `svc-conformance list` without
// flags), what is wrong with the ledger, and docs/COVERAGE.md as it should read.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { repoRoot } from '../helpers/config.js';
import { ledgerFile, ledgerProblems, readLedger } from '../helpers/coverage/ledger.js';
import { coverageDoc, ledgerRows, type Row } from '../helpers/coverage/report.js';
import { listUpstreamTests } from '../helpers/coverage/upstream-tests.js';
import { readSettings } from '../helpers/settings.js';
import { presetFiles } from '../helpers/suite/presets.js';
import { fullName } from '../helpers/suite/selection.js';
import { collectChecks } from './checks.js';

export const COVERAGE_DOC = join(repoRoot, 'docs', 'COVERAGE.md');

export interface Coverage {
  ledger: string;
  problems: string[];
  /** Empty when there are problems. */
  rows: Row[];
  /** docs/COVERAGE.md as the ledger makes it, formatted as prettier formats it. */
  doc: string;
}

export async function readCoverage(): Promise<Coverage> {
  // The default cluster's names, whatever SVC_* variables this shell has.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name, value]) => !name.startsWith('SVC_') && value !== undefined),
  ) as Record<string, string>;
  const settings = readSettings(env);
  const upstream = await listUpstreamTests(settings);
  const entries = readLedger();
  const files = presetFiles('full', []);
  const names = collectChecks(files, settings, env).map(fullName);
  const problems = ledgerProblems(entries, upstream, names);
  if (problems.length) return { ledger: ledgerFile(), problems, rows: [], doc: '' };
  const rows = ledgerRows(entries, upstream);
  const options = await resolveConfig(COVERAGE_DOC);
  const doc = await format(coverageDoc(rows), { ...options, filepath: COVERAGE_DOC });
  return { ledger: ledgerFile(), problems, rows, doc };
}

/** docs/COVERAGE.md as checked in, or '' when there is none. */
export function checkedInDoc(): string {
  try {
    return readFileSync(COVERAGE_DOC, 'utf8');
  } catch {
    return '';
  }
}
