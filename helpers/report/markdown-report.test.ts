import { describe, expect, it } from 'vitest';
import { markdownReport, toFailure, type ReportRow } from './markdown-report.js';

const row = (over: Partial<ReportRow>): ReportRow => ({
  project: 'suites',
  file: 'suites/x.spec.ts',
  section: 'X',
  passed: 0,
  failed: 0,
  skipped: 0,
  durationMs: 1500,
  skipReasons: [],
  failures: [],
  ...over,
});

describe('markdownReport', () => {
  const verdict =
    'verdict [Does the Service have any Endpoints?]: Service e-1/hostnames has no endpoints → next: check the selector';
  const report = markdownReport(
    [
      row({ file: 'suites/dns.spec.ts', section: 'Does the Service work by DNS name?', passed: 5 }),
      row({
        file: 'suites/kube-proxy-rules.spec.ts',
        section: 'Is kube-proxy writing iptables rules?',
        skipped: 2,
        skipReasons: ['ipvs mode not in use | here'],
      }),
      row({
        file: 'suites/endpoints.spec.ts',
        section: 'Does the Service have any Endpoints?',
        passed: 1,
        failed: 1,
        diagnostics: 'diagnostics/endpoints.md',
        failures: [toFailure('lists 3 ready endpoints', `expected 0 to be 3\n${verdict}`)],
      }),
      row({ project: 'unit', file: 'helpers/parse/nft.test.ts', section: 'parseNft', passed: 4 }),
    ],
    {
      cluster: 'cluster `svc` (local)',
      runId: 'rabc',
      preset: 'quick',
      totals: { passed: 10, failed: 1, skipped: 2 },
      durationMs: 12_300,
    },
  );

  it('gives a disruptive spec (run after the suites) its row among the sections', () => {
    const rows = [
      row({
        project: 'disruptive',
        file: 'suites/recovery.disruptive.spec.ts',
        section: 'Beyond the guide: recovery',
        passed: 5,
      }),
    ];
    const totals = { passed: 5, failed: 0, skipped: 0 };
    expect(markdownReport(rows, { cluster: 'c', totals, durationMs: 1 })).toContain(
      '| Beyond the guide: recovery | `recovery.disruptive.spec.ts` | ✅ pass | 1.5 s | 5/5 |  |',
    );
  });

  it('heads the report with the totals and the run', () => {
    expect(report.split('\n').slice(0, 3)).toEqual([
      '# svc-conformance: 10 passed, 1 failed, 2 skipped',
      '',
      'cluster `svc` (local) · run id `rabc` · preset quick · 12.3 s',
    ]);
  });

  it('has one table row per guide section, skip reasons escaped, and unit tests as one line', () => {
    expect(report).toContain('| Does the Service work by DNS name? | `dns.spec.ts` | ✅ pass | 1.5 s | 5/5 |  |');
    expect(report).toContain('| ⏭️ skip | 1.5 s | 0/2 | skipped: ipvs mode not in use \\| here |');
    expect(report).toContain('| ❌ fail | 1.5 s | 1/2 | [diagnostics](diagnostics/endpoints.md) |');
    expect(report).toContain('unit: 4 passed, 0 failed, 0 skipped in 1 file(s)');
  });

  it('lists each failure with its first line and its verdict', () => {
    expect(report).toContain(
      `### Does the Service have any Endpoints? — \`suites/endpoints.spec.ts\`\n\n- **lists 3 ready endpoints**: expected 0 to be 3\n  ${verdict}\n\nEvidence: [diagnostics/endpoints.md]`,
    );
  });
});
