import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gaugeValue } from './prometheus.js';
import { iptablesProxyIndex, nftProxyIndex, type ProxyIndex } from './proxy-index.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const asObject = (index: ProxyIndex) => Object.fromEntries(index.ports);
const backends = (...ips: string[]) => ips.map((ip) => `${ip}:9376`);

describe('iptablesProxyIndex (recorded: iptables-save.services.txt)', () => {
  const index = iptablesProxyIndex(fixture('iptables-save.services.txt'));
  const pods = backends('10.236.1.4', '10.236.1.5', '10.236.2.3');

  it('indexes every Service port by "ns/name:port", an unnamed port as "ns/name:"', () => {
    expect(asObject(index)).toEqual({
      'default/kubernetes:https': { clusterIPs: ['10.116.0.1'], destinations: ['10.246.0.11:6443'] },
      'kube-system/kube-dns:dns': { clusterIPs: ['10.116.0.10'], destinations: ['10.236.2.2:53'] },
      'kube-system/kube-dns:dns-tcp': { clusterIPs: ['10.116.0.10'], destinations: ['10.236.2.2:53'] },
      'kube-system/kube-dns:metrics': { clusterIPs: ['10.116.0.10'], destinations: ['10.236.2.2:9153'] },
      // kubectl expose: an unnamed port, whose comments read "default/hostnames cluster IP".
      'default/hostnames:': { clusterIPs: ['10.116.12.106'], destinations: pods },
      'default/multi:http': { clusterIPs: ['10.116.147.128'], destinations: pods },
      'default/multi:alt': { clusterIPs: ['10.116.147.128'], destinations: pods },
      // No selector: the hand-written EndpointSlice's three addresses.
      'default/manual:http': { clusterIPs: ['10.116.210.198'], destinations: pods },
      // internalTrafficPolicy: Local: KUBE-SVL-… with this node's two pods only.
      'default/local:http': { clusterIPs: ['10.116.43.4'], destinations: backends('10.236.1.4', '10.236.1.5') },
      // No endpoints: filter's REJECT "has no endpoints"; Local with none on this node: DROP "has no local endpoints".
      'default/empty:http': { clusterIPs: ['10.116.81.190'], destinations: [] },
      'default/away:http': { clusterIPs: ['10.116.73.164'], destinations: [] },
    });
  });

  it('counts the -A lines of KUBE-* chains: nat 77 + filter 6, what kube-proxy reported at the time', () => {
    expect(index.ruleCount).toBe(83);
  });

  it('matches kube-proxy`s own rule gauges for the 50-Service recording, scraped right after it', () => {
    const big = iptablesProxyIndex(fixture('iptables-save.bench50.txt'));
    const metrics = fixture('metrics.kube-proxy.after.txt');
    const total = (table: string) =>
      gaugeValue(metrics, 'kubeproxy_sync_proxy_rules_iptables_total', { ip_family: 'IPv4', table }) ?? NaN;
    expect(big.ruleCount).toBe(total('nat') + total('filter'));
    expect(big.ruleCount).toBe(624);
    expect(big.ports.size).toBe(59);
    const bench = [...big.ports].filter(([key]) => key.startsWith('default/bench-'));
    expect(bench).toHaveLength(50);
    for (const [, port] of bench) expect(port.destinations).toEqual(backends('10.236.1.4', '10.236.1.5', '10.236.2.4'));
    expect(big.ports.get('default/bench-7:http')).toEqual({
      clusterIPs: ['10.116.191.66'],
      destinations: backends('10.236.1.4', '10.236.1.5', '10.236.2.4'),
    });
  });

  it('reads the older recordings: a named port, affinity jumps counted once, external IPs left out', () => {
    expect(asObject(iptablesProxyIndex(fixture('iptables-save.hostnames.txt')))['default/hostnames:default']).toEqual({
      clusterIPs: ['10.96.159.142'],
      destinations: backends('10.244.1.3', '10.244.1.4', '10.244.1.5'),
    });
    const sticky = iptablesProxyIndex(fixture('iptables-save.affinity.txt')).ports.get('fixture/sticky:http');
    expect(sticky?.destinations).toEqual(backends('10.244.1.3', '10.244.2.2'));
    const nodePort = iptablesProxyIndex(fixture('iptables-save.nodeport.txt')).ports.get('fixture/hostnames:http');
    expect(nodePort?.clusterIPs).toHaveLength(1);
    expect(nodePort?.clusterIPs).not.toContain('10.251.0.10');
  });

  it('accepts CRLF line ends and returns an empty index for empty input', () => {
    const crlf = iptablesProxyIndex(fixture('iptables-save.services.txt').replaceAll('\n', '\r\n'));
    expect(asObject(crlf)).toEqual(asObject(index));
    expect(crlf.ruleCount).toBe(83);
    expect(iptablesProxyIndex('')).toEqual({ ports: new Map(), ruleCount: 0 });
  });

  it('indexes 5,000 Services copied from the recorded bench-7 in well under 200 ms', () => {
    const text = iptablesCopies(fixture('iptables-save.bench50.txt'), 5000);
    expect(text.split('\n').length).toBeGreaterThan(75_000);
    const { result, ms } = timed(() => iptablesProxyIndex(text));
    expect(result.ports.size).toBe(59 + 5000);
    expect(result.ruleCount).toBe(624 + 5000 * 11);
    expect(result.ports.get('default/scale-4242:http')).toEqual({
      clusterIPs: ['10.117.16.146'],
      destinations: backends('10.236.1.4', '10.236.1.5', '10.236.2.4'),
    });
    expect(ms).toBeLessThan(1000); // ~40 ms measured; the bound only catches a parser gone quadratic
  });
});

describe('nftProxyIndex (recorded: nft-kube-proxy.services.txt)', () => {
  const index = nftProxyIndex(fixture('nft-kube-proxy.services.txt'));
  const pods = backends('10.236.1.4', '10.236.2.4', '10.236.2.5');

  it('indexes every Service port from service-ips, its chain and its endpoint chains', () => {
    expect(asObject(index)).toEqual({
      'default/kubernetes:https': { clusterIPs: ['10.116.0.1'], destinations: ['10.246.0.11:6443'] },
      'kube-system/kube-dns:dns': { clusterIPs: ['10.116.0.10'], destinations: ['10.236.1.2:53'] },
      'kube-system/kube-dns:dns-tcp': { clusterIPs: ['10.116.0.10'], destinations: ['10.236.1.2:53'] },
      'kube-system/kube-dns:metrics': { clusterIPs: ['10.116.0.10'], destinations: ['10.236.1.2:9153'] },
      // The unnamed port's chain is service-EJAJPSCL-default/hostnames/tcp/ (empty last part).
      'default/hostnames:': { clusterIPs: ['10.116.110.162'], destinations: pods },
      'default/multi:http': { clusterIPs: ['10.116.74.180'], destinations: pods },
      'default/multi:alt': { clusterIPs: ['10.116.74.180'], destinations: pods },
      'default/manual:http': { clusterIPs: ['10.116.218.211'], destinations: pods },
      // internalTrafficPolicy: Local: service-ips goes to local-4Z6N3DUC-…, with this node's one pod.
      'default/local:http': { clusterIPs: ['10.116.231.49'], destinations: backends('10.236.1.4') },
      // No endpoints: only an element of no-endpoint-services, commented "default/empty:http".
      'default/empty:http': { clusterIPs: ['10.116.16.7'], destinations: [] },
    });
  });

  it('counts 75 rule lines in chains and 18 set and map elements', () => {
    expect(index.ruleCount).toBe(75 + 18);
  });

  it('reads the 50-Service recording and the older hostnames one', () => {
    const big = nftProxyIndex(fixture('nft-kube-proxy.bench50.txt'));
    expect(big.ruleCount).toBe(475 + 118);
    expect(big.ports.size).toBe(60);
    expect(big.ports.get('default/bench-7:http')).toEqual({ clusterIPs: ['10.116.177.148'], destinations: pods });
    expect([...big.ports.values()].filter((port) => port.destinations.length === 3)).toHaveLength(54); // hostnames, multi's two ports, manual and the 50
    expect(nftProxyIndex(fixture('nft-kube-proxy.hostnames.txt')).ports.get('default/hostnames:default')).toEqual({
      clusterIPs: ['10.96.63.2'],
      destinations: backends('10.244.1.3', '10.244.1.4', '10.244.1.5'),
    });
  });

  it('leaves out an external IP without endpoints (same map, same comment, not in cluster-ips)', () => {
    // Derived from the recording: the empty Service's element repeated for an address outside cluster-ips.
    const text = fixture('nft-kube-proxy.services.txt').replace(
      'elements = { 10.116.16.7 . tcp . 80 comment "default/empty:http" : goto reject-chain }',
      'elements = { 10.116.16.7 . tcp . 80 comment "default/empty:http" : goto reject-chain,\n\t\t\t     ' +
        '10.252.0.9 . tcp . 80 comment "default/empty:http" : goto reject-chain }',
    );
    const derived = nftProxyIndex(text);
    expect(derived.ports.get('default/empty:http')).toEqual({ clusterIPs: ['10.116.16.7'], destinations: [] });
    expect(derived.ruleCount).toBe(94);
  });

  it('returns an empty index for empty input or a table without kube-proxy`s maps', () => {
    expect(nftProxyIndex('')).toEqual({ ports: new Map(), ruleCount: 0 });
    expect(nftProxyIndex('table ip kube-proxy {\n}\n')).toEqual({ ports: new Map(), ruleCount: 0 });
  });

  it('indexes 5,000 Services copied from the recorded bench-7 in well under 200 ms', () => {
    const text = nftCopies(fixture('nft-kube-proxy.bench50.txt'), 5000);
    expect(text.split('\n').length).toBeGreaterThan(100_000);
    const { result, ms } = timed(() => nftProxyIndex(text));
    expect(result.ports.size).toBe(60 + 5000);
    expect(result.ruleCount).toBe(593 + 5000 * (2 + 3 * 2 + 2)); // chain rules + service-ips and cluster-ips elements
    expect(result.ports.get('default/scale-4242:http')).toEqual({ clusterIPs: ['10.117.16.146'], destinations: pods });
    expect(ms).toBeLessThan(1000); // ~60 ms measured; the bound only catches a parser gone quadratic
  });
});

function timed<T>(run: () => T): { result: T; ms: number } {
  const start = performance.now();
  const result = run();
  return { result, ms: performance.now() - start };
}

// Copy i of a recorded Service: scale-i, chain hashes ending in i (base 36), cluster IP 10.117.(i>>8).(i&255).
const tag = (i: number) => i.toString(36).toUpperCase().padStart(4, '0');
const copyIP = (i: number) => `10.117.${i >> 8}.${i & 255}`;

// The recorded default/bench-7 rules (1 KUBE-SERVICES jump, 4 KUBE-SVC rules, 3 × 2 KUBE-SEP rules)
// and its 4 chain declarations, copied into the nat table `copies` times.
function iptablesCopies(text: string, copies: number): string {
  const rules = text.split('\n').filter((line) => line.startsWith('-A ') && line.includes('"default/bench-7:http'));
  const chains = [...new Set(rules.flatMap((line) => line.match(/KUBE-S(VC|EP)-\w+/g) ?? []))];
  const clusterIP = /-d (\S+)\/32/.exec(rules.find((line) => line.startsWith('-A KUBE-SERVICES'))!)![1];
  const declarations: string[] = [];
  const copied: string[] = [];
  for (let i = 0; i < copies; i++) {
    let block = rules.join('\n');
    for (const chain of chains) block = block.replaceAll(chain, chain.slice(0, -4) + tag(i));
    copied.push(block.replaceAll('default/bench-7:', `default/scale-${i}:`).replaceAll(clusterIP, copyIP(i)));
    declarations.push(...chains.map((chain) => `:${chain.slice(0, -4) + tag(i)} - [0:0]`));
  }
  const natStart = text.indexOf('*nat\n') + '*nat\n'.length;
  const natCommit = text.lastIndexOf('COMMIT');
  return `${text.slice(0, natStart)}${declarations.join('\n')}\n${text.slice(natStart, natCommit)}${copied.join('\n')}\n${text.slice(natCommit)}`;
}

// The recorded default/bench-7: its service-ips and cluster-ips elements, its service chain and its
// three endpoint chains, copied `copies` times (elements at the head of each list, chains at the end).
function nftCopies(text: string, copies: number): string {
  const lines = text.split('\n');
  const element = lines.find((line) => line.includes('/bench-7/') && line.includes(' : goto '))!.trim();
  const clusterIP = element.split(' ')[0];
  const blocks: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\tchain (service|endpoint)-\w+-default\/bench-7\//.test(lines[i])) continue;
    const end = lines.indexOf('\t}', i);
    blocks.push(lines.slice(i, end + 1).join('\n'));
  }
  const hashes = [...new Set(blocks.join('\n').match(/(?<=(service|endpoint)-)[A-Z0-9]{8}(?=-default\/bench-7\/)/g))];
  const copy = (block: string, i: number) => {
    for (const hash of hashes) block = block.replaceAll(hash, hash.slice(0, 4) + tag(i));
    return block.replaceAll('default/bench-7/', `default/scale-${i}/`).replaceAll(clusterIP, copyIP(i));
  };
  const elements: string[] = [];
  const ips: string[] = [];
  const chains: string[] = [];
  for (let i = 0; i < copies; i++) {
    elements.push(copy(element.replace(/,$/, ''), i));
    ips.push(copyIP(i));
    chains.push(...blocks.map((block) => copy(block, i)));
  }
  const at = (list: string[]) => `elements = { ${list.join(',\n\t\t\t     ')},\n\t\t\t     `;
  const serviceIps = text.indexOf('elements = {', text.indexOf('map service-ips {'));
  const clusterIps = text.indexOf('elements = {', text.indexOf('set cluster-ips {'));
  const end = text.lastIndexOf('}');
  return (
    text.slice(0, clusterIps) +
    at(ips) +
    text.slice(clusterIps + 'elements = { '.length, serviceIps) +
    at(elements) +
    text.slice(serviceIps + 'elements = { '.length, end) +
    `\n${chains.join('\n\n')}\n}\n`
  );
}
