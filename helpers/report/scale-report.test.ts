import { describe, expect, it } from 'vitest';
import { curvePlot, latencyPlot, scaleSection, withScaleSection, type ScaleSummary } from './scale-report.js';

const summary: ScaleSummary = {
  services: 3,
  endpointsPerService: 2,
  proxyMode: 'nftables',
  nodes: 2,
  programmed: { p50: 0.4, p90: 0.6, p99: 0.7, max: 0.7, missing: 0 },
  firstAnswer: { p50: 0.5, p99: 0.8, sampled: 3, missing: 0 },
  removal: { p99: 0.5, sampled: 3, missing: 0 },
  syncSeconds: { p50: 0.05, p99: 0.1, rounds: 12 },
  rules: { perNode: [{ node: 'n1', rules: 120, kubeProxyRssBytes: 50 * 2 ** 20 }] },
  sampled: { vips: 3, allBackendsAnswered: 3 },
  quickWithServices: { passed: 19, failed: 0, skipped: 0 },
  createSeconds: 0.2,
  deleteSeconds: 0.9,
  points: [
    { index: 1, seconds: 0.4 },
    { index: 2, seconds: 0.6 },
    { index: 3, seconds: 0.7 },
  ],
};

describe('the Scale section of report.md', () => {
  it('tabulates the figures and links its plot', () => {
    const section = scaleSection(summary, 'scale.svg', []);
    expect(section).toContain('| create → programmed on every node (s) | 0.4 | 0.6 | 0.7 | 0.7 |');
    expect(section).toContain('quick preset with the Services in place: 19 passed, 0 failed, 0 skipped');
    expect(section).toContain('n1 120 (kube-proxy 50 MiB)');
    expect(section).toContain('![create → programmed by Service](scale.svg)');
    expect(scaleSection(summary, 'scale.svg', ['p99 create → programmed 6 s is over --max-p99 5 s'])).toContain(
      '**gate failed**: p99 create → programmed 6 s is over --max-p99 5 s',
    );
  });

  it('replaces its own section and keeps the rest of the report', () => {
    const report = '# Report\n\nrows\n\n## Scale\n\nold\n\n## Failures\n\nf\n';
    const next = withScaleSection(report, '## Scale\n\nnew\n');
    expect(next).toBe('# Report\n\nrows\n\n## Scale\n\nnew\n## Failures\n\nf\n');
    expect(withScaleSection('', '## Scale\n')).toBe('## Scale\n');
  });
});

describe('plots (vega-lite, rendered to SVG headless)', () => {
  it('draws each Service as a point, with its title', async () => {
    const svg = await latencyPlot(summary);
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('3 Services × 2 endpoints, nftables, 2 node(s)');
    expect(svg.match(/role="graphics-symbol"/g)?.length ?? 0).toBeGreaterThanOrEqual(3);
  });
  it('draws the curve of both modes', async () => {
    const svg = await curvePlot([
      { proxyMode: 'iptables', services: 100, p50: 0.2, p99: 0.5 },
      { proxyMode: 'iptables', services: 1000, p50: 1.1, p99: 2.5 },
    ]);
    expect(svg).toContain('iptables p99');
  });
});
