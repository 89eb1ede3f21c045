// Watches kube-proxy's rules on one node: dumps them in a loop (iptables-save, or the text of
// `nft list table ip kube-proxy`), indexes every Service port in the dump, and records, for
// each port it is told to expect, the first dump in which the node had programmed exactly
// what is expected (the destinations, or the port gone). A dump is stamped with the time it
// finished: what it shows was true by then, so the recorded times are upper bounds, off by at
// most one dump and the pause after it (twice the dump's duration; reported as the resolution).
import type { Cluster } from '../cluster/cluster.js';
import { nodeShell } from '../cluster/node-shell.js';
import type { NodeInfo } from '../cluster/provider.js';
import { iptablesProxyIndex, nftProxyIndex, type ProxyIndex } from '../parse/proxy-index.js';

/** What a port should look like on the node: these destinations, or absent (`gone`). */
export type Expectation = { destinations: string[] } | { gone: true };

export interface DumpStats {
  dumps: number;
  /** The slowest dump (read and parse), in ms: the resolution of the recorded times. */
  slowestMs: number;
  meanMs: number;
  /** The last dump's kube-proxy rule count. */
  ruleCount: number;
}

export class RuleWatch {
  private readonly expected = new Map<string, { want: Expectation; since: number }>();
  /** key → time (ms since epoch) of the first dump that met the expectation. */
  readonly met = new Map<string, number>();
  private running = false;
  private loop?: Promise<void>;
  private total = 0;
  readonly stats: DumpStats = { dumps: 0, slowestMs: 0, meanMs: 0, ruleCount: 0 };
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
    this.loop = (async () => {
      while (this.running) {
        try {
          const started = Date.now();
          await this.dumpOnce();
          // Half the time at most: the watcher must not take the CPU kube-proxy needs to write the rules it waits for.
          await new Promise((r) => setTimeout(r, Math.max(100, Date.now() - started)));
        } catch (error) {
          this.lastError = (error as Error).message.split('\n')[0];
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** One dump, parsed; every pending expectation it meets is stamped with the dump's end. */
  async dumpOnce(): Promise<ProxyIndex> {
    const started = Date.now();
    const index = await readIndex(this.cluster, this.node, this.mode);
    const at = Date.now();
    const took = at - started;
    this.stats.dumps++;
    this.total += took;
    this.stats.meanMs = Math.round(this.total / this.stats.dumps);
    this.stats.slowestMs = Math.max(this.stats.slowestMs, took);
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
      if (ok) this.met.set(key, at);
    }
    return index;
  }
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
