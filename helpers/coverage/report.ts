// The ledger's counts (what `npm run coverage` prints) and docs/COVERAGE.md, generated from the
// ledger and upstream's list: counts with Conformance apart, per family and per file, then a table
// per family and one of the tests that are not ours.
import { versions } from '../config.js';
import { FAMILIES, FAMILY_IDS, LOCAL_RUN_FAMILIES } from './families.js';
import { LOCAL_RUN_MODES, STATUSES, type LedgerEntry, type LocalRunMode, type Status } from './ledger.js';
import { ledgerName, type UpstreamTest } from './upstream-tests.js';

/** A ledger entry beside the upstream test it names. */
export interface Row extends LedgerEntry {
  line: number;
  conformance: boolean;
}

export type Counts = Record<Status, number>;

/** Joins the ledger to upstream's list, in upstream's file and line order (the ledger must have no problems). */
export function ledgerRows(entries: LedgerEntry[], upstream: UpstreamTest[]): Row[] {
  const byKey = new Map(entries.map((e) => [`${e.file}: ${e.test}`, e]));
  return upstream.map((t) => ({
    ...byKey.get(`${t.file}: ${ledgerName(t)}`)!,
    line: t.line,
    conformance: t.conformance,
  }));
}

export function countRows(rows: Row[]): Counts {
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Counts;
  for (const row of rows) counts[row.status]++;
  return counts;
}

/** The covered upstream tests and the checks that cover them: what the bench races. */
export const coveredRows = (rows: Row[]) => rows.filter((r) => r.status === 'covered');

const countCells = (c: Counts) => STATUSES.map((s) => String(c[s]));

/** The counts as `npm run coverage` prints them: all, Conformance, then each family. */
export function formatCounts(rows: Row[]): string {
  const table: string[][] = [
    ['', ...STATUSES],
    ['all upstream tests', ...countCells(countRows(rows))],
    ['  Conformance', ...countCells(countRows(rows.filter((r) => r.conformance)))],
    ...FAMILY_IDS.map((id) => [`  ${id}`, ...countCells(countRows(rows.filter((r) => r.family === id)))]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  const lines = table.map((row) =>
    row.map((cell, i) => (i ? cell.padStart(widths[i]) : cell.padEnd(widths[0]))).join('  '),
  );
  return [`upstream ${versions.kubernetes} test/e2e/network: ${rows.length} tests`, ...lines, localRunLine(rows)].join(
    '\n',
  );
}

const OUTCOMES = ['passed', 'failed', 'skipped'] as const;

/** How many of the rows' upstream tests passed, failed, were skipped or were never run on the local cluster in `mode`. */
function localRunCounts(rows: Row[], mode: LocalRunMode) {
  const counts = { passed: 0, failed: 0, skipped: 0, 'not run': 0 };
  for (const row of rows) counts[row.localCluster?.[mode] ?? 'not run']++;
  return counts;
}

const localRows = (rows: Row[]) => rows.filter((r) => r.family && LOCAL_RUN_FAMILIES.includes(r.family));

function localRunLine(rows: Row[]): string {
  const mine = localRows(rows);
  const modes = LOCAL_RUN_MODES.map((mode) => {
    const counts = localRunCounts(mine, mode);
    return `${mode} ${OUTCOMES.map((o) => `${counts[o]} ${o}`).join(', ')}${counts['not run'] ? `, ${counts['not run']} not run` : ''}`;
  });
  return `upstream's own tests of the data path under change (${LOCAL_RUN_FAMILIES.length} families, ${mine.length} tests) on a local cluster: ${modes.join('; ')}`;
}

/** An entry's local-cluster cell: each mode's outcome, and why it did not pass. */
function localCell(row: Row): string {
  const run = row.localCluster;
  if (!run) return 'not run';
  const outcomes = LOCAL_RUN_MODES.map((mode) => run[mode] ?? 'not run').join(' / ');
  return run.reason ? `${outcomes}: ${run.reason}` : outcomes;
}

/** Per family, each mode's passed/failed/skipped of upstream's tests on the local cluster. */
function localRunTable(rows: Row[]): string {
  const cells = (group: Row[]) =>
    LOCAL_RUN_MODES.map((mode) => {
      const counts = localRunCounts(group, mode);
      return OUTCOMES.map((o) => counts[o]).join(' / ') + (counts['not run'] ? ` (${counts['not run']} not run)` : '');
    });
  return tableOf(
    ['family', 'tests', ...LOCAL_RUN_MODES.map((mode) => `${mode}: passed / failed / skipped`)],
    [
      ...LOCAL_RUN_FAMILIES.map((id) => {
        const group = rows.filter((r) => r.family === id);
        return [`\`${id}\``, String(group.length), ...cells(group)];
      }),
      ['all', String(localRows(rows).length), ...cells(localRows(rows))],
    ],
  );
}

const cell = (text: string) => text.replace(/\|/g, '\\|');
const tableOf = (header: string[], body: string[][]) =>
  [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...body.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');

function countsTable(label: string, groups: [string, Row[]][]): string {
  return tableOf(
    [label, 'tests', ...STATUSES, 'Conformance (covered/all)'],
    groups.map(([name, rows]) => {
      const conformance = rows.filter((r) => r.conformance);
      return [
        name,
        String(rows.length),
        ...countCells(countRows(rows)),
        `${countRows(conformance).covered}/${conformance.length}`,
      ];
    }),
  );
}

function what(row: Row): string {
  const checks = (row.checks ?? []).map((c) => `\`${c}\``).join('; ');
  if (row.status === 'covered') return checks;
  if (row.status === 'partial') return `${checks}. Missing: ${row.missing}`;
  return row.asserts ?? '';
}

/** docs/COVERAGE.md, before prettier formats it. */
export function coverageDoc(rows: Row[]): string {
  const files = [...new Set(rows.map((r) => r.file))];
  const title = (r: Row) => `${r.test} (\`${r.file}:${r.line}\`)`;
  const sections = FAMILY_IDS.filter((id) => rows.some((r) => r.family === id)).map((id) => {
    const family: { title: string; issue: string } = FAMILIES[id];
    const mine = rows.filter((r) => r.family === id);
    const local = LOCAL_RUN_FAMILIES.includes(id);
    return [
      `### ${family.title} (\`${id}\`, ${family.issue})`,
      tableOf(
        [
          'upstream test',
          'status',
          'our checks, or what upstream asserts',
          ...(local ? ['upstream on the local cluster (iptables / nftables)'] : []),
        ],
        mine.map((r) => [title(r), r.status, what(r), ...(local ? [localCell(r)] : [])]),
      ),
    ].join('\n\n');
  });
  const notOurs = rows.filter((r) => r.status === 'not ours');
  return [
    "# Coverage of upstream's sig-network e2e tests",
    "<!-- Generated by `npm run coverage` from coverage/ and upstream's sources; edit the ledger, not this file. -->",
    `Every test in \`test/e2e/network/*.go\` of Kubernetes ${versions.kubernetes} (the pinned version, read from the Go module cache), and what our checks do about it. **covered**: our checks assert what upstream's test asserts (a check named nearby does not count); **partial**: part of it, and what is missing; **not ours**: why, in a line; **todo**: the family, and so the issue, it belongs to. The ledger is \`coverage/upstream-${versions.kubernetes.replace(/^(v\d+\.\d+).*/, '$1')}.yaml\`; \`npm run coverage\` checks it against upstream's sources and the collected check names, prints the counts and writes this file. The bench's race against upstream (\`npm run bench -- --only upstream\`) runs the covered tests and the checks that cover them.`,
    '## Counts',
    countsTable('', [
      ['all', rows],
      ['Conformance', rows.filter((r) => r.conformance)],
    ]),
    countsTable(
      'family',
      FAMILY_IDS.map((id) => [`\`${id}\``, rows.filter((r) => r.family === id)]),
    ),
    countsTable(
      'upstream file',
      files.map((f) => [`\`${f}\``, rows.filter((r) => r.file === f)]),
    ),
    '## Upstream on the local cluster',
    `Upstream's own tests of the families that change the data path (${LOCAL_RUN_FAMILIES.map((id) => `\`${id}\``).join(', ')}), run by \`npm run conformance -- --families --record\` on a throwaway local cluster of 3 nodes in 3 zones (traffic distribution needs 3 zones) with e2e.test of ${versions.kubernetes} under ginkgo, once per kube-proxy mode; each test's outcome is recorded in its ledger entry (\`localCluster\`), with the reason when it failed or was skipped. The per-test column is in the family tables below.`,
    localRunTable(rows),
    '## By family',
    ...sections,
    '## Not ours',
    tableOf(
      ['upstream test', 'why'],
      notOurs.map((r) => [title(r), r.reason ?? '']),
    ),
    '',
  ].join('\n\n');
}
