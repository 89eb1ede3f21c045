// One row per spec file (guide section, result, time, skip reasons, failures with their
// verdicts), the totals in test-results/summary.json and the Markdown report in
// test-results/report.md; the CLI prints the closing `N passed, N failed, N skipped` line
// from summary.json once vitest and the cleanup are done, so that line is really the last.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Reporter, TestModule, TestCase, Vitest } from 'vitest/node';
import type { SerializedError } from 'vitest';
import type { ClusterHandle } from '../cluster/provider.js';
import { readSettings, type Settings } from '../settings.js';
import { writeSkipReasonsAfterJunit } from './junit-skips.js';
import { markdownReport, SECTION_PROJECTS, toFailure, type ReportRow } from './markdown-report.js';

export default class SummaryReporter implements Reporter {
  private started = Date.now();
  private readonly settings: Settings = readSettings();

  onInit(vitest: Vitest): void {
    writeSkipReasonsAfterJunit(vitest, this.settings.junitFile); // junit.xml's skips carry their reasons
  }

  onTestRunStart(): void {
    this.started = Date.now();
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    const results = this.settings.resultsDir;
    const rows = modules.map((m) => toRow(m, results));
    const total = (k: 'passed' | 'failed' | 'skipped') => rows.reduce((n, r) => n + r[k], 0);
    // A module that failed to load or whose hooks failed has no passing tests to show for it.
    const broken = modules.filter(
      (m) => m.state() === 'failed' && [...m.children.allTests()].every((t) => t.result().state !== 'failed'),
    ).length;
    const failed = total('failed') + broken + unhandledErrors.length;
    const width = Math.max(20, ...rows.map((r) => r.section.length));
    const lines = ['', 'svc-conformance summary', `${'section'.padEnd(width)}  result   time    tests`];
    for (const r of rows) {
      const result = r.failed || r.failures.length ? 'FAIL' : r.passed ? 'pass' : 'skip';
      lines.push(
        `${r.section.padEnd(width)}  ${result.padEnd(7)}  ${(r.durationMs / 1000).toFixed(1).padStart(5)}s  ${r.passed}/${r.passed + r.failed + r.skipped}${r.skipReasons.length ? `  skipped: ${r.skipReasons.join('; ')}` : ''}`,
      );
    }
    mkdirSync(results, { recursive: true });
    const totals = { passed: total('passed'), failed, skipped: total('skipped') };
    writeFileSync(join(results, 'summary.json'), JSON.stringify({ ...totals, rows }, null, 2));
    const meta = { ...runFacts(this.settings), totals, durationMs: Date.now() - this.started };
    writeFileSync(join(results, 'report.md'), markdownReport(rows, meta));
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}

function toRow(module: TestModule, results: string): ReportRow {
  const tests = [...module.children.allTests()];
  const count = (state: string) => tests.filter((t) => t.result().state === state).length;
  const spec = basename(module.moduleId, '.spec.ts');
  const diagnostics = join('diagnostics', `${spec}.md`);
  const setupErrors = [...module.errors(), ...[...module.children.allSuites()].flatMap((s) => s.errors())];
  return {
    project: module.project.name,
    file: module.relativeModuleId,
    section: sectionOf(module, tests),
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped') + count('pending'),
    durationMs: module.diagnostic().duration,
    skipReasons: [
      ...new Set(
        tests
          .map((t) => t.result())
          .map((r) => (r.state === 'skipped' ? r.note : undefined))
          .filter((n): n is string => !!n),
      ),
    ],
    failures: [
      ...setupErrors.map((e) => toFailure('(setup)', e.message)),
      ...tests.flatMap((t) => {
        const r = t.result();
        return r.state === 'failed' ? (r.errors ?? []).map((e) => toFailure(t.name, e.message)) : [];
      }),
    ],
    ...(SECTION_PROJECTS.includes(module.project.name) && existsSync(join(results, diagnostics))
      ? { diagnostics }
      : {}),
  };
}

/** The first describe block's title: specs name it after the guide section. */
function sectionOf(module: TestModule, tests: TestCase[]): string {
  const first = [...module.children].find((c) => c.type === 'suite');
  return first && first.type === 'suite' ? first.name : (tests[0]?.name ?? module.relativeModuleId);
}

/** The cluster and run the CLI handed vitest, for the report's header line. */
function runFacts(settings: Settings): { cluster?: string; runId?: string; preset?: string } {
  const file = settings.run.clusterHandleFile;
  let cluster: string | undefined;
  if (file && existsSync(file)) {
    const h = JSON.parse(readFileSync(file, 'utf8')) as ClusterHandle;
    const c = h.capabilities;
    cluster = `cluster \`${h.name}\` (${h.provider}) · Kubernetes ${c.kubernetesVersion} · kube-proxy ${c.proxyMode} · CNI ${c.cni} · ${c.nodeCount} node(s)`;
  }
  return { cluster, runId: settings.run.runId, preset: settings.run.preset };
}
