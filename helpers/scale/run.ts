// A scale run: N Services with M endpoints each, created against a cluster that the rule
// watchers read on every node. It measures, per Service, create → its rules present on every
// node, create → first answer through its VIP (a sample, from a node), an endpoint removal →
// gone from every node's rules, and, for the whole, deletion → every rule gone; it checks that
// sampled VIPs reach every one of their backends and that the cluster DNS answers a sample of the Services'
// names with their ClusterIP (upstream's PerformanceDNS test); and it reads kube-proxy's own histograms,
// rule counts and memory. Everything is bounded: the number of objects, each wait, the probes.
import type * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import { nodeShell } from '../cluster/node-shell.js';
import { probePath } from '../node/node-probe.js';
import { startClientPod } from '../workloads/client-pod.js';
import { deployHostnames } from '../workloads/hostnames.js';
import type { BackendPod } from '../workloads/backends.js';
import { backendsFor, portKey, scaleService, scaleSlice, serviceName } from './objects.js';
import { deltaQuantiles, scrapeKubeProxy, SYNC, PROGRAMMING, type ProxyScrape } from './proxy-metrics.js';
import { RuleWatch } from './rule-watch.js';

export interface ScaleOptions {
  services: number;
  endpoints: number;
  /** Services whose first answer through the VIP is timed (spread over the creation order). */
  firstAnswerSample: number;
  /** VIPs checked to reach every one of their backends. */
  vipSample: number;
  /** Services that lose one endpoint, timed until it is gone from every node. */
  removals: number;
  /** API requests in flight while creating and deleting. */
  concurrency: number;
  /** Runs while the Services exist (the quick preset): its pass/fail counts go into the result. */
  withServicesInPlace?: () => Promise<{ passed: number; failed: number; skipped: number }>;
  log: (line: string) => void;
}

export interface Quantiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface ScaleResult {
  services: number;
  endpointsPerService: number;
  proxyMode: string;
  nodes: number;
  kubernetesVersion: string;
  /** Seconds from a Service's EndpointSlice being created until every node's rules send to its endpoints. */
  programmed: Quantiles & { missing: number };
  /** Seconds from creation until the VIP first answered, from a node (a sample). */
  firstAnswer: Quantiles & { sampled: number; missing: number; from?: string; skipped?: string };
  /** Seconds from an endpoint's removal until no node's rules send to it. */
  removal: Quantiles & { sampled: number; missing: number };
  /** kube-proxy's own figures over the run (all nodes): sync rounds and network programming, seconds. */
  syncSeconds: { p50?: number; p99?: number; rounds: number };
  networkProgrammingSeconds: { p50?: number; p99?: number; observations: number };
  rules: {
    perNode: {
      node: string;
      rules: number;
      kubeProxyRssBytes?: number;
      /** Whole-table reads: their mean and slowest time (the resolution of a changed port's time). */
      dumpMeanMs: number;
      dumpSlowestMs: number;
      /** Frontend reads: the resolution of a new or deleted port's time. */
      frontReadMeanMs: number;
      frontReadSlowestMs: number;
    }[];
  };
  sampled: { vips: number; allBackendsAnswered: number; failures: string[] };
  /** Sampled Services whose fully qualified name the cluster DNS answered with exactly their ClusterIP, from a pod. */
  dns: { names: number; answered: number; failures: string[] };
  /** The quick preset, run while the Services existed. */
  quickWithServices?: { passed: number; failed: number; skipped: number };
  createSeconds: number;
  /** From the first delete until no node has a rule of any of the Services. */
  deleteSeconds: number;
  /** Each Service's create → programmed, in creation order (the plot's points). */
  points: { index: number; seconds: number }[];
}

/** Nearest-rank quantiles of seconds; NaN-free: an empty list gives zeros. */
export function quantiles(values: number[]): Quantiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : 0);
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return { p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? 0) };
}

/** Runs `work` over items with at most `limit` in flight. */
async function inPool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

/** Names asked of the cluster DNS: upstream's 5% (one Service in 20), at least 1, at most 500 (5% of its 10,000). */
export function dnsSample(services: number): number {
  return Math.min(500, Math.max(1, Math.ceil(services / 20)));
}

/** Evenly spread picks of `count` out of 0..n-1, in order. */
export function spread(n: number, count: number): number[] {
  const k = Math.min(n, count);
  return Array.from({ length: k }, (_, j) => Math.floor((j * n) / k));
}

export async function runScale(cluster: Cluster, namespace: string, o: ScaleOptions): Promise<ScaleResult> {
  const mode = cluster.capabilities.proxyMode;
  if (mode !== 'iptables' && mode !== 'nftables')
    throw new Error(`scale reads iptables or nftables rules, not ${mode}`);
  const kube = cluster.kube;
  const budget = Math.min(15 * 60_000, Math.max(120_000, o.services * 40));

  o.log(`scale: a pool of ${o.endpoints} backend pod(s) in ${namespace}`);
  const backends = await deployHostnames(cluster, namespace, { name: 'scale-backends', replicas: o.endpoints });
  const pool: BackendPod[] = backends.pods;
  const before = await Promise.all(cluster.nodes.map((n) => scrapeKubeProxy(cluster, n)));
  const watches = cluster.nodes.map((n) => new RuleWatch(cluster, n, mode));
  for (const w of watches) w.start();

  // First answers: a long-running svcprobe on the first node, fed a line per sampled Service as it is created.
  const first = new Map<string, { ok: boolean; ms: number }>();
  const sampledFirst = new Set(spread(o.services, o.firstAnswerSample));
  const shell = nodeShell(cluster, cluster.nodes[0]);
  const prober = shell.lines?.(
    [probePath(cluster), 'first-answer', '--interval=25ms', '--deadline=120s', '--timeout=250ms'],
    { timeoutMs: budget + 180_000 },
  );
  const reading = prober
    ? (async () => {
        for await (const line of prober.lines) {
          const r = JSON.parse(line) as { id: string; ok: boolean; ms: number };
          first.set(r.id, { ok: r.ok, ms: r.ms });
        }
      })()
    : Promise.resolve();

  try {
    // Create.
    const created: { name: string; key: string; t0: number; service: k8s.V1Service; backends: BackendPod[] }[] = [];
    const createStart = Date.now();
    let done = 0;
    await inPool(
      Array.from({ length: o.services }, (_, i) => i),
      o.concurrency,
      async (i) => {
        const name = serviceName(i);
        const service = await kube.core.createNamespacedService({
          namespace,
          body: scaleService(namespace, name, cluster.runId),
        });
        const mine = backendsFor(i, pool, o.endpoints);
        const slice = scaleSlice(service, mine, cluster.runId, new Date());
        await kube.discovery.createNamespacedEndpointSlice({ namespace, body: slice });
        const t0 = Date.now();
        const key = portKey(namespace, name);
        const destinations = mine.map((b) => `${b.ip}:${slice.ports![0].port}`);
        for (const w of watches) w.expect(key, { destinations, fresh: true }, t0);
        created[i] = { name, key, t0, service, backends: mine };
        if (sampledFirst.has(i))
          prober?.write(`${name} http://${service.spec!.clusterIP}:${service.spec!.ports![0].port}/`);
        if (++done % 500 === 0) o.log(`scale: ${done}/${o.services} Services created`);
      },
    );
    const createSeconds = (Date.now() - createStart) / 1000;
    o.log(`scale: ${o.services} Services created in ${createSeconds.toFixed(1)} s; waiting for every node's rules`);
    await waitForWatches(watches, budget, (left) =>
      o.log(`scale: ${o.services - left}/${o.services} programmed on every node`),
    );
    prober?.end();

    const programmedSeconds = created.map((c) => onEveryNode(watches, c.key, c.t0));
    await Promise.race([reading, new Promise((r) => setTimeout(r, 130_000))]);
    const firstSeconds = [...sampledFirst].map((i) => first.get(created[i].name));

    // Correctness: sampled VIPs each reach every one of their backends, from a pod.
    const client = await startClientPod(cluster, namespace, { name: 'scale-client' });
    const vipPicks = shuffle(created.map((_, i) => i)).slice(0, Math.min(o.vipSample, o.services));
    const failures: string[] = [];
    let allAnswered = 0;
    await inPool(vipPicks, 8, async (i) => {
      const c = created[i];
      const url = `http://${c.service.spec!.clusterIP}:${c.service.spec!.ports![0].port}/`;
      const wanted = new Set(c.backends.map((b) => b.name));
      const seen = new Set<string>();
      // 16 requests per backend leave one unchosen by chance about once in 10^8; the second round only adds requests.
      for (const count of [16 * wanted.size, 32 * wanted.size]) {
        const t = await client.http(url, { count, concurrency: 8 });
        for (const answer of Object.keys(t.answers)) seen.add(answer);
        if ([...wanted].every((w) => seen.has(w))) break;
      }
      const missing = [...wanted].filter((w) => !seen.has(w));
      if (missing.length === 0) allAnswered++;
      else if (failures.length < 5) failures.push(`${c.name} (${url}): no answer from ${missing.join(', ')}`);
    });

    // DNS: every Service's name answers its ClusterIP once all exist (upstream's PerformanceDNS test asks 5% of
    // 10,000, one every 20 in creation order, by fully qualified name); asked once each, from the same pod.
    const dnsPicks = spread(o.services, dnsSample(o.services));
    const dnsFailures: string[] = [];
    let dnsAnswered = 0;
    await inPool(dnsPicks, 8, async (i) => {
      const c = created[i];
      const fqdn = `${c.name}.${namespace}.svc.${cluster.domain}`;
      const answer = await client.resolve(fqdn);
      const addrs = answer.addrs ?? [];
      if (answer.outcome === 'ok' && addrs.length === 1 && addrs[0] === c.service.spec!.clusterIP) dnsAnswered++;
      else if (dnsFailures.length < 5)
        dnsFailures.push(
          `${fqdn}: ${answer.outcome === 'ok' ? addrs.join(', ') : `${answer.outcome} ${answer.error ?? ''}`.trim()} (ClusterIP ${c.service.spec!.clusterIP})`,
        );
    });

    const quick = o.withServicesInPlace ? await o.withServicesInPlace() : undefined;

    // Removal: one endpoint out of the sampled Services' slices.
    const removed = spread(o.services, o.removals).filter((i) => created[i].backends.length > 1);
    const removedAt = new Map<number, number>();
    await inPool(removed, o.concurrency, async (i) => {
      const c = created[i];
      const keep = c.backends.slice(0, -1);
      const slice = scaleSlice(c.service, keep, cluster.runId, new Date());
      await kube.discovery.replaceNamespacedEndpointSlice({ namespace, name: slice.metadata!.name!, body: slice });
      const t0 = Date.now();
      removedAt.set(i, t0);
      for (const w of watches)
        w.expect(c.key, { destinations: keep.map((b) => `${b.ip}:${slice.ports![0].port}`) }, t0);
    });
    await waitForWatches(watches, budget, (left) =>
      o.log(`scale: ${removed.length - left}/${removed.length} removals programmed`),
    );
    const removalSeconds = removed.map((i) => onEveryNode(watches, created[i].key, removedAt.get(i)!));

    const after = await Promise.all(cluster.nodes.map((n) => scrapeKubeProxy(cluster, n)));
    const perNode = watches.map((w) => ({
      node: w.node.name,
      rules: w.stats.ruleCount,
      kubeProxyRssBytes: after.find((a) => a.node === w.node.name)?.rssBytes,
      dumpMeanMs: w.stats.whole.meanMs,
      dumpSlowestMs: w.stats.whole.slowestMs,
      frontReadMeanMs: w.stats.front.meanMs,
      frontReadSlowestMs: w.stats.front.slowestMs,
    }));

    // Delete it all, timed until no node has a rule of any of them.
    const deleteStart = Date.now();
    for (const w of watches) for (const c of created) w.expect(c.key, { gone: true }, deleteStart);
    await inPool(created, o.concurrency, async (c) => {
      await kube.core.deleteNamespacedService({ namespace, name: c.name });
    });
    await waitForWatches(watches, budget, (left) =>
      o.log(`scale: ${o.services - left}/${o.services} Services' rules gone`),
    );
    const deleteSeconds = (Math.max(deleteStart, ...watches.flatMap((w) => [...w.met.values()])) - deleteStart) / 1000;

    const ok = (v: (number | undefined)[]) => v.filter((x): x is number => x !== undefined);
    return {
      services: o.services,
      endpointsPerService: o.endpoints,
      proxyMode: mode,
      nodes: cluster.nodes.length,
      kubernetesVersion: cluster.capabilities.kubernetesVersion,
      programmed: {
        ...quantiles(ok(programmedSeconds)),
        missing: programmedSeconds.filter((v) => v === undefined).length,
      },
      firstAnswer: prober
        ? {
            ...quantiles(firstSeconds.filter((f) => f?.ok).map((f) => f!.ms / 1000)),
            sampled: firstSeconds.length,
            missing: firstSeconds.filter((f) => !f?.ok).length,
            from: cluster.nodes[0].name,
          }
        : {
            ...quantiles([]),
            sampled: 0,
            missing: 0,
            skipped: `node access ${cluster.nodeAccess} cannot stream a probe`,
          },
      removal: {
        ...quantiles(ok(removalSeconds)),
        sampled: removed.length,
        missing: removalSeconds.filter((v) => v === undefined).length,
      },
      syncSeconds: rounds(deltaQuantiles(before, after, (s: ProxyScrape) => s.sync)),
      networkProgrammingSeconds: observations(deltaQuantiles(before, after, (s: ProxyScrape) => s.programming)),
      rules: { perNode },
      sampled: { vips: vipPicks.length, allBackendsAnswered: allAnswered, failures },
      dns: { names: dnsPicks.length, answered: dnsAnswered, failures: dnsFailures },
      quickWithServices: quick,
      createSeconds: Math.round(createSeconds * 1000) / 1000,
      deleteSeconds: Math.round(deleteSeconds * 1000) / 1000,
      points: programmedSeconds.flatMap((s, index) => (s === undefined ? [] : [{ index: index + 1, seconds: s }])),
    };
  } finally {
    prober?.end();
    for (const w of watches) await w.stop();
  }
}

const ms = (v?: number) => (v === undefined ? undefined : Math.round(v * 1000) / 1000);
const rounds = (q: { p50?: number; p99?: number; count: number }) => ({
  p50: ms(q.p50),
  p99: ms(q.p99),
  rounds: q.count,
});
const observations = (q: { p50?: number; p99?: number; count: number }) => ({
  p50: ms(q.p50),
  p99: ms(q.p99),
  observations: q.count,
});

/** Seconds from `t0` until every node met the expectation of `key`; undefined while one has not. */
function onEveryNode(watches: RuleWatch[], key: string, t0: number): number | undefined {
  const times = watches.map((w) => w.met.get(key));
  return times.every((t) => t !== undefined) ? (Math.max(...(times as number[])) - t0) / 1000 : undefined;
}

/** Waits until no watch has a pending expectation, or the budget ends (what is left stays unmet: counted as missing). */
async function waitForWatches(watches: RuleWatch[], budgetMs: number, progress: (left: number) => void): Promise<void> {
  const until = Date.now() + budgetMs;
  let lastLog = Date.now();
  for (;;) {
    const left = new Set(watches.flatMap((w) => w.pending())).size;
    if (left === 0 || Date.now() > until) return;
    if (Date.now() - lastLog > 5000) {
      progress(left);
      lastLog = Date.now();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function shuffle<T>(items: T[]): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

export { PROGRAMMING, SYNC };
