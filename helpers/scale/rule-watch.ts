// Watches kube-proxy's rules on one node, at two depths:
// - often, the Services' frontends alone (`iptables -t nat -S KUBE-SERVICES`, or `nft list map
//   ip kube-proxy service-ips`: tens of ms even at 5,000 Services), for when each port appears
//   and disappears;
// - about once a second, the whole table (`iptables-save -t nat`, `nft list table ip
//   kube-proxy`: a second or more at thousands of Services), for each port's destinations.
// A port expected to be new is programmed at the first frontend read that showed it, once a
// whole-table read has confirmed exactly its destinations: kube-proxy writes a sync in one
// transaction (one iptables-restore, one nft transaction), so its frontend never appears before
// the chains it jumps to. A changed port (an endpoint removed) is timed by the whole-table read,
// a deleted one by the frontend read. Each read is stamped with the time it finished: the times
// are upper bounds, off by at most one read and the pause after it (reported as the resolution).
import type { Cluster } from '../cluster/cluster.js';
import { nodeShell } from '../cluster/node-shell.js';
import type { NodeInfo } from '../cluster/provider.js';
import { iptablesProxyIndex, nftProxyIndex, type ProxyIndex } from '../parse/proxy-index.js';

/**
 * What a port should look like on the node: these destinations (`fresh`: the port is new, so its
 * frontend's first appearance times it), or absent (`gone`).
 */
export type Expectation = { destinations: string[]; fresh?: boolean } | { gone: true };

/** How long one kind of read takes: the resolution of the times it stamps. */
export interface ReadStats {
  reads: number;
  meanMs: number;
  slowestMs: number;
  totalMs: number;
}

export interface DumpStats {
  /** Whole-table reads: the resolution of a changed port's time. */
  whole: ReadStats;
  /** Frontend reads: the resolution of a new or deleted port's time. */
  front: ReadStats;
  /** The last whole read's kube-proxy rule count. */
  ruleCount: number;
}

const newReadStats = (): ReadStats => ({ reads: 0, meanMs: 0, slowestMs: 0, totalMs: 0 });

/** Counts one read that took `ms`. */
function addRead(stats: ReadStats, ms: number): void {
  stats.reads++;
  stats.totalMs += ms;
  stats.meanMs = Math.round(stats.totalMs / stats.reads);
  stats.slowestMs = Math.max(stats.slowestMs, ms);
}

export class RuleWatch {
  private readonly expected = new Map<string, { want: Expectation; since: number }>();
  /** key → time (ms since epoch) of the first dump that met the expectation. */
  readonly met = new Map<string, number>();
  private running = false;
  private loop?: Promise<void>;
  /** key → when a frontend read first showed it (since it was last absent). */
  private readonly frontSince = new Map<string, number>();
  readonly stats: DumpStats = { whole: newReadStats(), front: newReadStats(), ruleCount: 0 };
  lastError?: string;

  constructor(
    private readonly cluster: Cluster,
    readonly node: NodeInfo,
    private readonly mode: 'iptables' | 'nftables',
  ) {}

  /** From now on, wait for `key` to look like `want` (replacing an earlier expectation of it). */
  expect(key: string, want: Expectation, since = Date.now()): void {
    this.expected.set(key, { want, since });
    this.met.delete(key);
  }

  /** Keys still expected and not met. */
  pending(): string[] {
    return [...this.expected.keys()].filter((k) => !this.met.has(k));
  }

  start(): void {
    this.running = true;
    // Two loops, so that a slow whole-table read (tens of seconds while kube-proxy rewrites 50,000 rules)
    // never holds up the frontend reads that time new and deleted ports. Each pauses as long as its read
    // took: the watcher must not take the CPU kube-proxy needs to write the rules it waits for.
    const repeat = (read: () => Promise<unknown>, atLeastMs: number) =>
      (async () => {
        while (this.running) {
          const started = Date.now();
          try {
            await read();
          } catch (error) {
            this.lastError = (error as Error).message.split('\n')[0];
          }
          await new Promise((r) => setTimeout(r, Math.max(atLeastMs, Date.now() - started)));
        }
      })();
    this.loop = Promise.all([repeat(() => this.frontOnce(), 50), repeat(() => this.dumpOnce(), 1000)]).then(
      () => undefined,
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** One read of the frontends: when each port appeared, and deleted ports met as gone. */
  async frontOnce(): Promise<void> {
    const started = Date.now();
    const index = await readFrontends(this.cluster, this.node, this.mode);
    const at = Date.now();
    addRead(this.stats.front, at - started);
    for (const key of index.ports.keys()) if (!this.frontSince.has(key)) this.frontSince.set(key, at);
    for (const key of [...this.frontSince.keys()]) if (!index.ports.has(key)) this.frontSince.delete(key);
    for (const [key, { want, since }] of this.expected)
      if ('gone' in want && !this.met.has(key) && started >= since && !index.ports.has(key)) this.met.set(key, at);
  }

  /** One whole-table read, parsed; every pending expectation it meets is stamped. */
  async dumpOnce(): Promise<ProxyIndex> {
    const started = Date.now();
    const index = await readIndex(this.cluster, this.node, this.mode);
    const at = Date.now();
    addRead(this.stats.whole, at - started);
    this.stats.ruleCount = index.ruleCount;
    for (const [key, { want, since }] of this.expected) {
      if (this.met.has(key) || started < since) continue;
      const port = index.ports.get(key);
      const ok =
        'gone' in want
          ? !port
          : !!port &&
            port.destinations.length === want.destinations.length &&
            want.destinations.every((d) => port.destinations.includes(d));
      if (!ok) continue;
      // A new port was programmed when its frontend first showed (the same transaction wrote its chains).
      const front = this.frontSince.get(key);
      this.met.set(
        key,
        'fresh' in want && want.fresh && front !== undefined ? Math.min(at, Math.max(front, since)) : at,
      );
    }
    return index;
  }
}

/** Only the Services' frontends: which ports kube-proxy sends somewhere (destinations not read). */
export async function readFrontends(
  cluster: Cluster,
  node: NodeInfo,
  mode: 'iptables' | 'nftables',
): Promise<ProxyIndex> {
  const shell = nodeShell(cluster, node);
  if (mode === 'iptables') {
    const chain = await shell.run(['iptables', '-t', 'nat', '-S', 'KUBE-SERVICES'], { timeoutMs: 60_000 });
    return iptablesProxyIndex(`*nat\n${chain.stdout}\nCOMMIT\n`);
  }
  const map = await shell.run(['nft', 'list', 'map', 'ip', 'kube-proxy', 'service-ips'], { timeoutMs: 60_000 });
  return nftProxyIndex(map.stdout);
}

/** Every Service port kube-proxy has programmed on the node, and its rule count. */
export async function readIndex(cluster: Cluster, node: NodeInfo, mode: 'iptables' | 'nftables'): Promise<ProxyIndex> {
  const shell = nodeShell(cluster, node);
  if (mode === 'iptables')
    // The nat table alone: it holds every Service's frontend and DNAT rules (filter adds only the REJECT of a
    // Service without endpoints, which a scale run never has); at 5,000 Services half the dump is half the time
    // a dump competes with kube-proxy's iptables-restore (an nf_tables dump restarts when the ruleset changes).
    return iptablesProxyIndex((await shell.run(['iptables-save', '-t', 'nat'], { timeoutMs: 60_000 })).stdout);
  return nftProxyIndex((await shell.run(['nft', 'list', 'table', 'ip', 'kube-proxy'], { timeoutMs: 60_000 })).stdout);
}
