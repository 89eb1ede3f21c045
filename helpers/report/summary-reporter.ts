// One row per spec file (guide section, result, time, skip reasons), and the totals in
// test-results/summary.json; the CLI prints the closing `N passed, N failed, N skipped`
// line from it once vitest and the cleanup are done, so that line is really the last.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestModule, TestCase } from 'vitest/node';
import type { SerializedError } from 'vitest';

interface Row {
  file: string;
  section: string;
  passed: number;
  failed: number;
  skipped: number;
  durationMs: number;
  skipReasons: string[];
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    const rows = modules.map(toRow);
    const total = (k: 'passed' | 'failed' | 'skipped') => rows.reduce((n, r) => n + r[k], 0);
    // A module that failed to load or whose hooks failed has no passing tests to show for it.
    const broken = modules.filter((m) => m.state() === 'failed' && [...m.children.allTests()].every((t) => t.result().state !== 'failed')).length;
    const failed = total('failed') + broken + unhandledErrors.length;
    const width = Math.max(20, ...rows.map((r) => r.section.length));
    const lines = ['', 'svc-conformance summary', `${'section'.padEnd(width)}  result   time    tests`];
    for (const r of rows) {
      const result = r.failed ? 'FAIL' : r.passed ? 'pass' : 'skip';
      lines.push(`${r.section.padEnd(width)}  ${result.padEnd(7)}  ${(r.durationMs / 1000).toFixed(1).padStart(5)}s  ${r.passed}/${r.passed + r.failed + r.skipped}${r.skipReasons.length ? `  skipped: ${r.skipReasons.join('; ')}` : ''}`);
    }
    const results = process.env.SVC_RESULTS || 'test-results';
    mkdirSync(results, { recursive: true });
    writeFileSync(join(results, 'summary.json'), JSON.stringify({ passed: total('passed'), failed, skipped: total('skipped'), rows }, null, 2));
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}

function toRow(module: TestModule): Row {
  const tests = [...module.children.allTests()];
  const count = (state: string) => tests.filter((t) => t.result().state === state).length;
  return {
    file: module.relativeModuleId,
    section: sectionOf(module, tests),
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped') + count('pending'),
    durationMs: module.diagnostic().duration,
    skipReasons: [...new Set(tests.map((t) => t.result()).map((r) => (r.state === 'skipped' ? r.note : undefined)).filter((n): n is string => !!n))],
  };
}

/** The first describe block's title: specs name it after the guide section. */
function sectionOf(module: TestModule, tests: TestCase[]): string {
  const first = [...module.children].find((c) => c.type === 'suite');
  return first && first.type === 'suite' ? first.name : tests[0]?.name ?? module.relativeModuleId;
}
