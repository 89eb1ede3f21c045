// test-results/report.md: the run as Markdown a CI job can post on a pull request. One
// row per guide section (result, time, checks, skip reasons), then each failure with its
// verdict line and the diagnostics file that holds the evidence. Pure: rows in, text out.

/** The projects whose spec files are sections (the suites', and the disruptive ones run after them): a row each. */
export const SECTION_PROJECTS = ['suites', 'disruptive'];

export interface Failure {
  /** The check's title, or "(setup)" for a failed beforeAll. */
  check: string;
  /** The error's first line: what was expected and seen. */
  message: string;
  /** The guide's verdict appended to the error (`verdict [section]: cause → next: ...`), if any. */
  verdict?: string;
}

export interface ReportRow {
  project: string;
  file: string;
  section: string;
  passed: number;
  failed: number;
  skipped: number;
  durationMs: number;
  skipReasons: string[];
  failures: Failure[];
  /** Path of test-results/diagnostics/<spec>.md relative to the report, when it was written. */
  diagnostics?: string;
}

export interface ReportMeta {
  /** e.g. "cluster `svc` (local) · Kubernetes v1.34.4 · kube-proxy iptables · CNI bridge · 1 node(s)". */
  cluster?: string;
  runId?: string;
  preset?: string;
  totals: { passed: number; failed: number; skipped: number };
  durationMs: number;
}

const RESULT = { fail: '❌ fail', pass: '✅ pass', skip: '⏭️ skip' } as const;

export function markdownReport(rows: ReportRow[], meta: ReportMeta): string {
  const { passed, failed, skipped } = meta.totals;
  const facts = [
    meta.cluster,
    meta.runId && `run id \`${meta.runId}\``,
    meta.preset && `preset ${meta.preset}`,
    `${seconds(meta.durationMs)}`,
  ].filter(Boolean);
  const guide = rows.filter((r) => SECTION_PROJECTS.includes(r.project));
  const others = rows.filter((r) => !SECTION_PROJECTS.includes(r.project));
  const lines = [
    `# svc-conformance: ${passed} passed, ${failed} failed, ${skipped} skipped`,
    '',
    facts.join(' · '),
    '',
  ];
  if (guide.length) {
    lines.push('| guide section | spec | result | time | checks | notes |', '|---|---|---|---:|---:|---|');
    for (const r of guide) {
      const notes = [...r.skipReasons.map((s) => `skipped: ${s}`), r.diagnostics && `[diagnostics](${r.diagnostics})`]
        .filter(Boolean)
        .join('<br>');
      lines.push(
        `| ${cell(r.section)} | \`${r.file.split('/').pop()}\` | ${RESULT[resultOf(r)]} | ${seconds(r.durationMs)} | ${r.passed}/${r.passed + r.failed + r.skipped} | ${cell(notes)} |`,
      );
    }
    lines.push('');
  }
  for (const [project, group] of groupBy(others, (r) => r.project)) {
    const sum = (k: 'passed' | 'failed' | 'skipped') => group.reduce((n, r) => n + r[k], 0);
    lines.push(
      `${project}: ${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped in ${group.length} file(s)`,
      '',
    );
  }
  const failing = rows.filter((r) => r.failures.length);
  if (failing.length) lines.push('## Failures', '');
  for (const r of failing) {
    lines.push(`### ${r.section} — \`${r.file}\``, '');
    for (const f of r.failures) {
      lines.push(`- **${f.check}**: ${f.message}`);
      if (f.verdict) lines.push(`  ${f.verdict}`);
    }
    if (r.diagnostics) lines.push('', `Evidence: [${r.diagnostics}](${r.diagnostics})`);
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** Splits an error message into its first line and the verdict line the diagnosis appended. */
export function toFailure(check: string, errorMessage: string): Failure {
  const lines = errorMessage.split('\n');
  const verdict = lines.find((l) => l.startsWith('verdict ['));
  return {
    check,
    message: lines.find((l) => l.trim() && !l.startsWith('verdict [')) ?? '(no message)',
    ...(verdict ? { verdict } : {}),
  };
}

function resultOf(r: ReportRow): keyof typeof RESULT {
  return r.failed || r.failures.length ? 'fail' : r.passed ? 'pass' : 'skip';
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A table cell: pipes escaped, newlines as <br>. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, '<br>');
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
  return map;
}
