// The scale run's section of report.md and its plots, drawn by vega-lite (compiled to a vega
// view rendered headless to SVG: no canvas, no browser). Both load on the first plot: every
// other command starts ~0.3 s sooner without them.
import type { TopLevelSpec } from 'vega-lite';

export interface ScaleSummary {
  services: number;
  endpointsPerService: number;
  proxyMode: string;
  nodes: number;
  programmed: { p50: number; p90: number; p99: number; max: number; missing: number };
  firstAnswer: { p50: number; p99: number; sampled: number; missing: number; skipped?: string };
  removal: { p99: number; sampled: number; missing: number };
  syncSeconds: { p50?: number; p99?: number; rounds: number };
  rules: { perNode: { node: string; rules: number; kubeProxyRssBytes?: number }[] };
  sampled: { vips: number; allBackendsAnswered: number };
  /** Absent from runs before the DNS sample. */
  dns?: { names: number; answered: number };
  quickWithServices?: { passed: number; failed: number; skipped: number };
  createSeconds: number;
  deleteSeconds: number;
  points: { index: number; seconds: number }[];
}

async function svg(spec: TopLevelSpec): Promise<string> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

/** Each Service's create → programmed against how many Services existed, with its p50 and p99. */
export function latencyPlot(s: ScaleSummary): Promise<string> {
  const rules = [
    { label: `p50 ${s.programmed.p50} s`, seconds: s.programmed.p50 },
    { label: `p99 ${s.programmed.p99} s`, seconds: s.programmed.p99 },
  ];
  return svg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `create → programmed on every node: ${s.services} Services × ${s.endpointsPerService} endpoints, ${s.proxyMode}, ${s.nodes} node(s)`,
    width: 640,
    height: 260,
    layer: [
      {
        data: { values: s.points },
        mark: { type: 'point', size: 8, opacity: 0.5 },
        encoding: {
          x: { field: 'index', type: 'quantitative', title: 'Services existing (creation order)' },
          y: { field: 'seconds', type: 'quantitative', title: 'seconds' },
        },
      },
      {
        data: { values: rules },
        mark: { type: 'rule', strokeDash: [4, 4] },
        encoding: {
          y: { field: 'seconds', type: 'quantitative' },
          color: { field: 'label', type: 'nominal', title: null },
        },
      },
    ],
  });
}

export interface CurvePoint {
  proxyMode: string;
  services: number;
  p50: number;
  p99: number;
}

/** The bench's curve: p50 and p99 create → programmed against the number of Services, per proxy mode. */
export function curvePlot(points: CurvePoint[]): Promise<string> {
  const values = points.flatMap((p) => [
    { mode: `${p.proxyMode} p50`, services: p.services, seconds: p.p50 },
    { mode: `${p.proxyMode} p99`, services: p.services, seconds: p.p99 },
  ]);
  return svg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'create → programmed on every node, by number of Services',
    width: 520,
    height: 260,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'services', type: 'quantitative', scale: { type: 'log' }, title: 'Services' },
      y: { field: 'seconds', type: 'quantitative', title: 'seconds' },
      color: { field: 'mode', type: 'nominal', title: null },
    },
  });
}

const mib = (bytes?: number) => (bytes === undefined ? '?' : `${Math.round(bytes / 2 ** 20)} MiB`);

/** The "## Scale" section of report.md; `plot` is the SVG file's name beside it. */
export function scaleSection(s: ScaleSummary, plot: string, gate: string[]): string {
  const q = s.programmed;
  return [
    '## Scale',
    '',
    `${s.services} Services × ${s.endpointsPerService} endpoints, kube-proxy ${s.proxyMode}, ${s.nodes} node(s): ${
      gate.length ? `**gate failed**: ${gate.join('; ')}` : 'within the gate'
    }`,
    '',
    '| figure | p50 | p90 | p99 | max |',
    '| --- | --- | --- | --- | --- |',
    `| create → programmed on every node (s) | ${q.p50} | ${q.p90} | ${q.p99} | ${q.max} |`,
    `| create → first answer through the VIP (s, ${s.firstAnswer.sampled} sampled) | ${s.firstAnswer.p50} | | ${s.firstAnswer.p99} | |`,
    `| endpoint removal → gone everywhere (s, ${s.removal.sampled} sampled) | | | ${s.removal.p99} | |`,
    `| kube-proxy sync round (s, ${s.syncSeconds.rounds} rounds) | ${s.syncSeconds.p50 ?? '?'} | | ${s.syncSeconds.p99 ?? '?'} | |`,
    '',
    `- not programmed within the run's budget: ${q.missing}; first answers missing: ${s.firstAnswer.missing}${s.firstAnswer.skipped ? ` (${s.firstAnswer.skipped})` : ''}; removals not seen: ${s.removal.missing}`,
    `- sampled VIPs reaching every backend: ${s.sampled.allBackendsAnswered}/${s.sampled.vips}`,
    ...(s.dns
      ? [`- sampled Service names the cluster DNS answered with their ClusterIP: ${s.dns.answered}/${s.dns.names}`]
      : []),
    s.quickWithServices
      ? `- quick preset with the Services in place: ${s.quickWithServices.passed} passed, ${s.quickWithServices.failed} failed, ${s.quickWithServices.skipped} skipped`
      : '- quick preset with the Services in place: not run',
    `- rules per node: ${s.rules.perNode.map((n) => `${n.node} ${n.rules} (kube-proxy ${mib(n.kubeProxyRssBytes)})`).join(', ')}`,
    `- created in ${s.createSeconds} s; deleted (until no node had a rule of them) in ${s.deleteSeconds} s`,
    '',
    `![create → programmed by Service](${plot})`,
    '',
  ].join('\n');
}

/** report.md with its "## Scale" section replaced (or added). */
export function withScaleSection(report: string, section: string): string {
  const start = report.indexOf('## Scale\n');
  if (start < 0) return `${report.trimEnd()}${report.trim() ? '\n\n' : ''}${section}`;
  const next = report.indexOf('\n## ', start + 1);
  return `${report.slice(0, start)}${section}${next < 0 ? '' : report.slice(next + 1)}`;
}
