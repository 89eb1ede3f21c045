import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { invalidForwarding } from '../parse/conntrack-invalid.js';
import { iptablesFirewall, nftFirewall } from '../parse/firewall.js';
import { parseProxyProcesses } from './kube-proxy-process.js';
import { iptablesServiceRules, ruleProblems } from './proxy-spec.js';
import type { ControlPlaneEvidence } from './control-plane.js';
import type { Evidence } from './evidence.js';
import type { NodeLayer } from './node-layer.js';
import type { PathCell, PathSource } from './path-matrix.js';
import { sectionTitled, verdict } from './verdict.js';

const NODES = ['n1', 'n2'];
const BACKENDS = [
  { pod: 'h-a', ip: '10.244.1.3', node: 'n1' },
  { pod: 'h-b', ip: '10.244.2.3', node: 'n2' },
];
const COREDNS = { pod: 'coredns-x', ip: '10.244.1.2', node: 'n1' };

/** The matrix a healthy two-node cluster gives: every source reaches everything; `broken` says which cells fail. */
function matrix(broken: (c: PathCell) => boolean = () => false): PathCell[] {
  const sources: PathSource[] = NODES.flatMap((node) => [
    { kind: 'pod' as const, node },
    { kind: 'node' as const, node },
  ]);
  const cells: PathCell[] = sources.flatMap((from) => [
    ...BACKENDS.map((b) => ({
      from,
      hop: 'pod IP' as const,
      to: b.node,
      target: `${b.ip}:9376 (${b.pod})`,
      ok: true,
      detail: 'connects',
    })),
    {
      from,
      hop: 'pod IP' as const,
      to: COREDNS.node,
      target: `${COREDNS.ip}:53 (${COREDNS.pod})`,
      ok: true,
      detail: 'connects',
    },
    {
      from,
      hop: 'DNS at pod IP' as const,
      to: COREDNS.node,
      target: `${COREDNS.ip} (${COREDNS.pod})`,
      ok: true,
      detail: 'answers 10.96.0.1',
    },
    { from, hop: 'DNS at Service IP' as const, to: '', target: '10.96.0.10', ok: true, detail: 'answers 10.96.0.1' },
    ...NODES.map((to) => ({
      from,
      hop: 'ClusterIP' as const,
      to,
      target: '10.96.0.50:80',
      ok: true,
      detail: '8 of 16/16 answered',
    })),
  ]);
  return cells.map((c) => (broken(c) ? { ...c, ok: false, detail: 'timeout' } : c));
}

const layer = (node: string, change: Partial<NodeLayer> = {}): NodeLayer => ({
  node,
  ipForward: true,
  rpFilter: { all: 0, default: 0 },
  bridgeNfCallIptables: true,
  conntrack: { count: 40, max: 131072 },
  firewall: [],
  podRoutes: [
    {
      node: NODES.find((n) => n !== node)!,
      cidr: node === 'n1' ? '10.244.2.0/24' : '10.244.1.0/24',
      route: 'via node',
    },
  ],
  mtus: [{ link: 'eth0', mtu: 1500, pods: false }],
  errors: [],
  ...change,
});

const controlPlane = (change: Partial<ControlPlaneEvidence> = {}): ControlPlaneEvidence => ({
  api: { ok: true, detail: '' },
  leases: [],
  namespace: { name: 'ns', ageSeconds: 30, hasDefaultServiceAccount: true },
  unscheduled: [],
  deployments: [{ name: 'hostnames', ageSeconds: 30, replicas: 2, replicaSets: 1, pods: 2 }],
  failedCreates: [],
  ...change,
});

const healthy = (): Evidence => ({
  namespace: 'ns',
  service: 'hostnames',
  found: true,
  serviceSpec: { clusterIP: '10.96.0.50', selector: { app: 'hostnames' } },
  pods: BACKENDS.map((b) => ({
    name: b.pod,
    container: 'hostnames',
    node: b.node,
    ip: b.ip,
    port: 9376,
    ready: true,
    restarts: 0,
    summary: `${b.pod} (Running, ready)`,
  })),
  definitionProblems: [],
  endpoints: BACKENDS.map((b) => ({ address: `${b.ip}:9376`, ip: b.ip, port: 9376, ready: true })),
  slices: BACKENDS.map((b) => ({ address: `${b.ip}:9376`, ip: b.ip, port: 9376, ready: true })),
  events: [],
  nodes: NODES.map((node) => ({
    node,
    kubeProxy: { node, running: true, mode: 'iptables' },
    programmed: BACKENDS.map((b) => `${b.ip}:9376`),
    layer: layer(node),
    hairpin: BACKENDS.filter((b) => b.node === node).map((b) => ({ pod: b.pod, on: true, description: 'on' })),
    errors: [],
  })),
  coredns: { readyPods: 1, pods: ['coredns-x (Running, ready)'], ready: [COREDNS] },
  controlPlane: controlPlane(),
  path: { cells: matrix(), notes: [] },
  resolvConf: {
    pod: 'client',
    conf: {
      nameservers: ['10.96.0.10'],
      search: ['ns.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      options: { ndots: '5' },
    },
  },
  errors: [],
});
const judge = (change: (e: Evidence) => void) => {
  const ev = healthy();
  change(ev);
  return verdict(ev, '10.96.0.10', 'cluster.local');
};

describe('verdict', () => {
  it('finds nothing wrong in healthy evidence and points at the data path', () => {
    expect(judge(() => {}).section).toBe('ip');
  });

  it('names a selector that matches no pods', () => {
    const v = judge(
      (e) => (
        (e.pods = []),
        (e.selectorExplanation = 'Service ns/hostnames has no endpoints: its selector app=hostnamez matches no pods')
      ),
    );
    expect(v).toMatchObject({
      section: 'endpoints',
      cause: expect.stringContaining('selector app=hostnamez matches no pods'),
    });
  });

  it('names a Service without selector or endpoints, not one whose EndpointSlices are made by hand', () => {
    const selectorless = (e: Evidence) => (
      (e.serviceSpec = { clusterIP: '10.96.0.50' }),
      (e.pods = []),
      (e.selectorExplanation = 'Service ns/hostnames has no selector: its Endpoints are managed by hand')
    );
    expect(judge((e) => (selectorless(e), (e.endpoints = []), (e.slices = []))).section).toBe('endpoints');
    expect(judge(selectorless).cause).not.toContain('has no selector');
  });

  it('names a wrong targetPort before looking at kube-proxy', () => {
    const v = judge(
      (e) => ((e.definitionProblems = ['no container declares port 9377']), (e.nodes[0].kubeProxy!.running = false)),
    );
    expect(v.section).toBe('definition');
  });

  it('names kube-proxy not running', () => {
    expect(
      judge((e) => (e.nodes[0].kubeProxy = { node: 'n1', running: false, problem: 'healthz refused' })).cause,
    ).toContain('kube-proxy is not running on n1 (healthz refused)');
  });

  it('names a missing endpoint rule', () => {
    expect(judge((e) => (e.nodes[0].programmed = [])).cause).toContain('no rule for 10.244.1.3:9376, 10.244.2.3:9376');
  });

  it("compares a dual-stack Service's rules with the endpoints of its ClusterIP's family only", () => {
    const ipv6 = BACKENDS.map((_, i) => `fd00:10:244::${i + 3}`);
    const dual = (e: Evidence) =>
      e.slices.push(...ipv6.map((ip) => ({ address: `[${ip}]:9376`, ip, port: 9376, ready: true })));
    expect(judge(dual).section).toBe('ip');
    expect(judge((e) => (dual(e), (e.nodes[0].programmed = []))).cause).toContain(
      'no rule for 10.244.1.3:9376, 10.244.2.3:9376',
    );
  });

  it('names CoreDNS with no ready pods, then a wrong kubelet clusterDNS', () => {
    expect(judge((e) => ((e.coredns.readyPods = 0), (e.coredns.pods = []))).cause).toContain(
      'CoreDNS has no ready pods',
    );
    expect(judge((e) => (e.resolvConf!.conf.nameservers = ['10.96.0.99'])).cause).toContain(
      "kubelet's clusterDNS is wrong",
    );
  });

  it('names hairpin off', () => {
    expect(
      judge((e) => (e.nodes[0].hairpin = [{ pod: 'h-a', on: false, description: 'hairpin_mode 0' }])).section,
    ).toBe('hairpin');
  });

  it('says a missing Service is missing', () => {
    expect(judge((e) => (e.found = false)).cause).toBe('Service ns/hostnames does not exist');
  });
});

// The path matrix and each node's settings: the node and hop that break, and the one setting that explains them.
const crosses = (c: PathCell, n: string) =>
  c.hop === 'pod IP' && c.from.node !== c.to && (c.to === n || (c.from.node === n && c.from.kind === 'pod'));

describe('verdict: the pod network, node by node', () => {
  it('names the node that does not forward, and its ip_forward, not CoreDNS', () => {
    const v = judge((e) => {
      // ip_forward=0 on n2: everything routed through n2 fails; n2 itself still reaches n1's pods.
      e.path!.cells = matrix(
        (c) => crosses(c, 'n2') || (c.hop.startsWith('DNS') && c.from.node === 'n2' && c.from.kind === 'pod'),
      );
      e.nodes[1].layer = layer('n2', { ipForward: false });
    });
    expect(v.section).toBe('nodeNetwork');
    expect(v.cause).toContain('n2 does not forward pod traffic: net.ipv4.ip_forward = 0 on n2');
    expect(v.cause).toContain('n2 itself reaches 2/2 off it');
    expect(v.cause).not.toContain('CoreDNS');
  });

  it('names a firewall policy that drops forwarded and bridged pod traffic on one node', () => {
    const v = judge((e) => {
      e.path!.cells = matrix(
        (c) =>
          crosses(c, 'n1') || (c.hop === 'pod IP' && c.from.kind === 'pod' && c.from.node === 'n1' && c.to === 'n1'),
      );
      e.nodes[0].layer = layer('n1', {
        firewall: [
          {
            family: 'iptables',
            table: 'filter',
            chain: 'FORWARD',
            hook: 'forward',
            kind: 'policy',
            verdict: 'drop',
            text: 'policy DROP',
            affectsCluster: true,
          },
        ],
      });
    });
    expect(v.cause).toContain('n1 drops the pod traffic it forwards: iptables filter FORWARD on n1: policy drop');
  });

  it("names one node's missing route to the other's pods", () => {
    const v = judge((e) => {
      // n1 has no route to 10.244.2.0/24: n1 and its pods cannot reach n2's pods; n2's pods get no reply from n1's.
      e.path!.cells = matrix(
        (c) =>
          c.hop === 'pod IP' &&
          ((c.from.node === 'n1' && c.to === 'n2') || (c.from.node === 'n2' && c.from.kind === 'pod' && c.to === 'n1')),
      );
      e.nodes[0].layer = layer('n1', {
        podRoutes: [{ node: 'n2', cidr: '10.244.2.0/24', problem: 'has no route to 10.244.2.0/24' }],
      });
    });
    expect(v.cause).toContain(
      "nothing on n1 reaches n2's pods, and n2's pods get no answer from n1's: n1 has no route to 10.244.2.0/24",
    );
  });

  it('names every fault the matrix fits when no setting it read decides, and still names the nodes', () => {
    // On two nodes, n2 not forwarding and n1 having no route to n2's pods fail the same cells.
    const v = judge((e) => (e.path!.cells = matrix((c) => crosses(c, 'n2'))));
    expect(v.cause).toMatch(
      /^nothing on n1 reaches n2's pods, and n2's pods get no answer from n1's, or n2 does not forward pod traffic; no setting read on n1, n2 explains it/,
    );
  });

  it('names a pod that answers no one as the pod, and CoreDNS when that pod is CoreDNS', () => {
    expect(judge((e) => (e.path!.cells = matrix((c) => c.target.includes('h-a')))).cause).toContain(
      'h-a) answers no one, not even its own node',
    );
    const v = judge((e) => (e.path!.cells = matrix((c) => c.target.includes('coredns-x'))));
    expect(v).toMatchObject({ section: 'anyDns', cause: expect.stringContaining('CoreDNS does not take connections') });
  });

  it('blames CoreDNS only when its pods take connections and still give no answer', () => {
    const v = judge((e) => (e.path!.cells = matrix((c) => c.hop.startsWith('DNS'))));
    expect(v).toMatchObject({
      section: 'anyDns',
      cause: expect.stringContaining('CoreDNS takes connections at its pod IPs but does not answer'),
    });
  });

  it('blames the kube-dns Service IP, not CoreDNS, when CoreDNS answers at its pod IP', () => {
    const v = judge((e) => (e.path!.cells = matrix((c) => c.hop === 'DNS at Service IP')));
    expect(v.cause).toContain('the kube-dns Service IP 10.96.0.10 does not answer though CoreDNS does at its pod IPs');
  });

  it("names bridge-nf-call-iptables off when pods on a node lose only their own node's backends through the VIP", () => {
    const v = judge((e) => {
      e.path!.cells = matrix(
        (c) => c.hop === 'ClusterIP' && c.from.kind === 'pod' && c.from.node === 'n1' && c.to === 'n1',
      );
      e.nodes[0].layer = layer('n1', { bridgeNfCallIptables: false });
    });
    expect(v.cause).toContain(
      "pods on n1 reach their own node's backends at their pod IPs but not through the ClusterIP: net.bridge.bridge-nf-call-iptables = 0 on n1",
    );
  });

  it('does not read the VIP where the pod IPs behind it fail', () => {
    const v = judge(
      (e) => (e.path!.cells = matrix((c) => crosses(c, 'n2') || (c.hop === 'ClusterIP' && c.to === 'n2'))),
    );
    expect(v.cause).toMatch(/^nothing on n1 reaches n2's pods, .*, or n2 does not forward pod traffic/);
    expect(v.cause).not.toContain('ClusterIP');
  });
});

describe('verdict: the control plane', () => {
  it('names kube-controller-manager when a namespace never gets its ServiceAccount', () => {
    const v = judge((e) => {
      e.found = false;
      e.controlPlane = controlPlane({
        namespace: { name: 'ns', ageSeconds: 40, hasDefaultServiceAccount: false },
        deployments: [{ name: 'hostnames', ageSeconds: 35, replicas: 2, replicaSets: 0, pods: 0 }],
      });
    });
    expect(v.section).toBe('controlPlane');
    expect(v.cause).toContain('namespace ns has had no ServiceAccount "default" for 40 s');
    expect(v.cause).toContain('Deployment hostnames has no ReplicaSet');
  });

  it('names the scheduler when pods wait with no node and no event, and its reason when it gives one', () => {
    const unscheduled = [{ pod: 'hostnames-1', ageSeconds: 30, events: [] as string[] }];
    expect(judge((e) => (e.controlPlane = controlPlane({ unscheduled }))).cause).toContain(
      'no scheduler is placing pods',
    );
    const reason = '0/2 nodes are available: 2 node(s) had untolerated taint {x: y}.';
    expect(
      judge(
        (e) =>
          (e.controlPlane = controlPlane({
            unscheduled: [{ ...unscheduled[0], events: [`FailedScheduling: ${reason}`] }],
          })),
      ).cause,
    ).toContain(`kube-scheduler cannot place pod hostnames-1: FailedScheduling: ${reason}`);
    // A wait that failed fast on the event: the pod is 2 s old, the scheduler has answered already.
    const young = [{ pod: 'hostnames-1', ageSeconds: 2, events: [`FailedScheduling: ${reason}`] }];
    expect(judge((e) => (e.controlPlane = controlPlane({ unscheduled: young }))).section).toBe('controlPlane');
  });

  it('names the admission policy that refuses the pods', () => {
    const message =
      "Error creating: pods \"hostnames-5d-x\" is forbidden: ValidatingAdmissionPolicy 'no-root' with binding 'no-root' denied request: pods must run as non-root";
    const v = judge((e) => {
      e.pods = [];
      e.controlPlane = controlPlane({
        deployments: [{ name: 'hostnames', ageSeconds: 30, replicas: 2, replicaSets: 1, pods: 0 }],
        failedCreates: [`ReplicaSet/hostnames-5d: ${message}`],
      });
    });
    expect(v.cause).toMatch(/^admission: ValidatingAdmissionPolicy no-root refuses the pods/);
  });

  it('names the EndpointSlice controller when Ready pods get no EndpointSlice', () => {
    const v = judge((e) => ((e.slices = []), (e.endpoints = []), (e.sliceObjects = 0)));
    expect(v.cause).toContain('2 pod(s) of ns/hostnames are Ready but it has no EndpointSlice');
  });

  it('leaves the EndpointSlice controller alone when the Service gives it nothing to write (a named targetPort no pod has)', () => {
    const v = judge((e) => {
      e.slices = [];
      e.sliceObjects = 0;
      e.definitionProblems = ['no container port is named "http"'];
    });
    expect(v.section).toBe('definition');
  });

  it('names an API server that does not answer', () => {
    expect(
      judge(
        (e) => (e.controlPlane = controlPlane({ api: { ok: false, detail: 'connect ECONNREFUSED 10.250.0.1:6443' } })),
      ).cause,
    ).toBe('the API server does not answer: connect ECONNREFUSED 10.250.0.1:6443');
  });
});

describe('verdict: nothing wrong in the evidence', () => {
  it("names the failing spec's own section when one is given, the ClusterIP one otherwise", () => {
    expect(verdict(healthy(), '10.96.0.10', 'cluster.local').section).toBe('ip');
    expect(verdict(healthy(), '10.96.0.10', 'cluster.local', sectionTitled('Beyond the guide: NodePort')).section).toBe(
      'nodePort',
    );
    expect(sectionTitled('not a section')).toBeUndefined();
  });
});

// Issue 29: protocol-specific DNS hops, CoreDNS's zones, a hung kube-proxy, and kube-proxy's rules against the spec.
// The node evidence comes from recorded output (helpers/parse/fixtures/README.md) through the same parsers.
const recorded = (name: string) => readFileSync(join(import.meta.dirname, '..', 'parse', 'fixtures', name), 'utf8');
const RANGES = { podCIDRs: ['10.244.0.0/16'], serviceCIDRs: ['10.96.0.10/32'] };

/** The healthy matrix with queries over TCP as well; `udpFails`/`tcpFails` say whose queries fail. */
function dnsMatrix(udpFails: (c: PathCell) => boolean, tcpFails: (c: PathCell) => boolean = () => false): PathCell[] {
  const udpDetail = JSON.parse(recorded('svcprobe-lookup.udp-dropped.json')) as { outcome: string; error: string };
  const cells = matrix().flatMap((c) =>
    c.hop === 'DNS at pod IP' ? [c, { ...c, hop: 'DNS/TCP at pod IP' as const, detail: 'answers 10.96.0.1' }] : [c],
  );
  return cells.map((c) =>
    (c.hop === 'DNS at pod IP' || c.hop === 'DNS at Service IP') && udpFails(c)
      ? { ...c, ok: false, detail: `${udpDetail.outcome} ${udpDetail.error}` }
      : c.hop === 'DNS/TCP at pod IP' && tcpFails(c)
        ? { ...c, ok: false, detail: 'dns-timeout' }
        : c,
  );
}

describe("verdict: DNS over UDP and over TCP apart (recorded: a UDP-53 drop on CoreDNS's node)", () => {
  // CoreDNS runs on n1; the drop in n1's FORWARD hits every pod's query (n1 itself asks through OUTPUT).
  const fromPods = (c: PathCell) => c.from.kind === 'pod';
  const dropOn = (findings: ReturnType<typeof iptablesFirewall>) => (e: Evidence) => {
    e.path = { cells: dnsMatrix(fromPods), notes: [] };
    e.nodes[0].layer = layer('n1', { firewall: findings.filter((f) => f.affectsCluster) });
  };

  it('names the iptables rule that drops DNS over UDP, not CoreDNS, when the same query over TCP is answered', () => {
    const v = judge(dropOn(iptablesFirewall(recorded('iptables-save.udp-dns-drop.txt'), RANGES)));
    expect(v.section).toBe('nodeNetwork');
    expect(v.cause).toMatch(
      /^n1 drops DNS queries over UDP on their way to CoreDNS \(the same queries over TCP are answered\): iptables filter FORWARD on n1: -A FORWARD -p udp -m udp --dport 53 -j DROP \(a pod on n1 gets dns-timeout .* over UDP but an answer over TCP/,
    );
  });

  it('names a host nftables table of its own that does the same', () => {
    const v = judge(dropOn(nftFirewall(recorded('nft-ruleset.udp-dns-drop.json'), RANGES)));
    expect(v.cause).toMatch(
      /^n1 drops DNS queries over UDP .*: nft inet host_dns_filter chain forward on n1: udp dport 53 drop/,
    );
  });

  it('says no setting explains it when the only rule read is for TCP', () => {
    const tcpOnly = iptablesFirewall(
      recorded('iptables-save.udp-dns-drop.txt').replace('-p udp -m udp', '-p tcp -m tcp'),
      RANGES,
    );
    const v = judge(dropOn(tcpOnly));
    expect(v.cause).toMatch(
      /DNS queries over UDP to CoreDNS get no answer through n1, n2 .*; no setting read on n1, n2 explains it/,
    );
  });

  it('blames CoreDNS only when the query over TCP, which reaches it unfiltered, gets no answer either', () => {
    const v = judge((e) => (e.path = { cells: dnsMatrix(fromPods, fromPods), notes: [] }));
    expect(v).toMatchObject({
      section: 'anyDns',
      cause: expect.stringMatching(/^CoreDNS takes connections at its pod IPs but does not answer/),
    });
  });
});

describe('verdict: CoreDNS serving another domain (recorded Corefile)', () => {
  it('says which domain CoreDNS serves and which the pods ask for', () => {
    const v = judge(
      (e) => (e.coredns.corefile = recorded('Corefile.cluster-local').replaceAll('cluster.local', 'cluster.example')),
    );
    expect(v.section).toBe('anyDns');
    expect(v.cause).toMatch(/^CoreDNS serves cluster\.example, pods ask for cluster\.local: the kubernetes plugin/);
    expect(judge((e) => (e.coredns.corefile = recorded('Corefile.cluster-local'))).section).toBe('ip');
  });
});

describe('verdict: kube-proxy gone or hung (recorded /proc of a SIGSTOPped kube-proxy)', () => {
  const healthz = JSON.parse(recorded('healthz.kube-proxy-stopped.json')) as { sampleError?: string };
  const notAnswering = (e: Evidence) =>
    (e.nodes[1].kubeProxy = {
      node: 'n2',
      running: false,
      problem: `healthz http://127.0.0.1:10256/healthz: ${healthz.sampleError}`,
    });

  it('tells a stopped process from none, with its state, age and unknown last sync', () => {
    const v = judge((e) => {
      notAnswering(e);
      e.nodes[1].proxyProcesses = parseProxyProcesses(recorded('proc.kube-proxy-stopped.txt'));
    });
    expect(v.section).toBe('kubeProxy');
    expect(v.cause).toMatch(
      /^kube-proxy on n2 is hung, not gone: process \d+ is stopped \(state T: a SIGSTOP, or a debugger\), up \d+\S*; its metrics do not answer either/,
    );
    expect(v.next).toMatch(/SIGCONT/);
  });

  it('says when it last synced when its metrics still answer', () => {
    const v = judge((e) => {
      notAnswering(e);
      e.nodes[1].proxyProcesses = [{ pid: 42, state: 'S', ageSeconds: 600 }];
      e.nodes[1].lastSync = Date.now() / 1000 - 95;
    });
    expect(v.cause).toMatch(
      /process 42 is sleeping \(state S\) but not answering.*, up 10m00s; its last rules sync was 1m3\ds ago/,
    );
  });

  it('says no process runs when there is none', () => {
    const v = judge((e) => (notAnswering(e), (e.nodes[1].proxyProcesses = [])));
    expect(v.cause).toMatch(/^kube-proxy is not running on n2 \(no kube-proxy process; healthz/);
  });
});

describe("verdict: kube-proxy's rules against the Service's spec (recorded mutants)", () => {
  const sticky = { namespace: 'fixture', name: 'sticky', portName: 'http' };
  const STICKY = { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } } };

  it('blames kube-proxy\'s rules for the feature, by node, never "looks right"', () => {
    const rules = iptablesServiceRules(recorded('iptables-save.affinity-ignored.txt'), sticky)!;
    const v = judge((e) => {
      e.serviceSpec = { ...e.serviceSpec, ...STICKY };
      e.nodes[1].ruleProblems = ruleProblems('ns/hostnames', e.serviceSpec, 'n2', rules, e.slices);
    });
    expect(v.section).toBe('affinity');
    expect(v.cause).toMatch(
      /^kube-proxy's rules on n2 \(iptables\) ignore sessionAffinity ClientIP of ns\/hostnames: no recent-match jumps/,
    );
  });

  it('says kube-proxy did not clear the UDP flows of a deleted endpoint', () => {
    const v = judge((e) => (e.nodes[0].staleUdp = ['10.244.1.15:53344 → 10.96.140.8:80 answered by 10.244.2.12:9376']));
    expect(v).toMatchObject({
      section: 'udp',
      cause: expect.stringMatching(/^kube-proxy did not clear the conntrack entries of ns\/hostnames/),
    });
  });

  it("does not clear kube-proxy when the spec's own kube-proxy rule check failed and the evidence found nothing", () => {
    const failed = [
      'kube-proxy writes the affinity rules on every node: [Beyond the guide: session affinity] recent-match jumps …',
    ];
    const v = verdict(healthy(), '10.96.0.10', 'cluster.local', 'affinity', failed);
    expect(v.cause).not.toMatch(/look right/);
    expect(v.cause).toMatch(/^the spec's own check of kube-proxy's rules failed/);
  });
});

describe('verdict: a node accepts conntrack-INVALID packets before kube-proxy drops them (recorded iptables-save)', () => {
  const accepted = () => {
    const walk = invalidForwarding(recorded('iptables-save.invalid-accepted.txt'), ['10.244.0.0/16']);
    return { rule: walk.acceptRule!, bypasses: walk.bypassedDrop };
  };

  it('names the rule and the node for the conntrack spec, not "look right"', () => {
    const ev = healthy();
    for (const n of ev.nodes) n.layer!.invalidAccepted = accepted();
    const v = verdict(ev, '10.96.0.10', 'cluster.local', 'conntrack', [
      'a Service connection outlives an out-of-window TCP segment its backend sends: … 0/5 survived ({"reset":5} …',
    ]);
    expect(v.section).toBe('conntrack');
    expect(v.cause).toMatch(
      /^n1, n2 accept conntrack-INVALID packets before kube-proxy's drop: iptables filter FORWARD on n1: -A FORWARD -m conntrack --ctstate INVALID -j ACCEPT \(ahead of kube-proxy's -A KUBE-FORWARD -m conntrack --ctstate INVALID .*-j DROP\); iptables filter FORWARD on n2: /,
    );
    expect(v.cause).not.toMatch(/look right/);
  });

  it('goes before the Services of checks a focused run never made (they do not exist)', () => {
    const ev = healthy();
    ev.found = false;
    for (const n of ev.nodes) n.layer!.invalidAccepted = accepted();
    const failed = [
      'out-of-window TCP packets cannot reset Service connections: every node drops conntrack-INVALID packets or tracks TCP liberally: …',
    ];
    expect(verdict(ev, '10.96.0.10', 'cluster.local', 'conntrack', failed).cause).toMatch(
      /^n1, n2 accept conntrack-INVALID packets before kube-proxy's drop/,
    );
  });

  it('is no cause where TCP is tracked liberally, nor when no check of out-of-window segments failed', () => {
    const ev = healthy();
    for (const n of ev.nodes) n.layer!.invalidAccepted = accepted();
    expect(verdict(ev, '10.96.0.10', 'cluster.local', 'conntrack', ['answers: timeout']).cause).toMatch(/look right/);
    for (const n of ev.nodes) n.layer!.tcpBeLiberal = true;
    const failed = ['a Service connection outlives an out-of-window TCP segment its backend sends: …'];
    expect(verdict(ev, '10.96.0.10', 'cluster.local', 'conntrack', failed).cause).toMatch(/look right/);
  });
});

describe("verdict: CoreDNS's kubernetes plugin without the reverse zones (recorded Corefile)", () => {
  const PTR_FAILED = [
    "answers the PTR record of its ClusterIP over UDP and over TCP: the Service's fully qualified name: [Services work by DNS name] PTR of 10.96.0.50 …",
  ];
  const noReverse = (e: Evidence) =>
    (e.coredns.corefile = recorded('Corefile.cluster-local').replace(
      'kubernetes cluster.local in-addr.arpa ip6.arpa {',
      'kubernetes cluster.local {',
    ));

  it('names the missing zone and what the PTR query gets, when a PTR check failed', () => {
    const ev = healthy();
    noReverse(ev);
    const v = verdict(ev, '10.96.0.10', 'cluster.local', 'dns', PTR_FAILED);
    expect(v.section).toBe('anyDns');
    expect(v.cause).toBe(
      "CoreDNS's kubernetes plugin does not serve in-addr.arpa (its zones in the Corefile, ConfigMap kube-system/coredns: cluster.local), so PTR queries of ClusterIPs and pod IPs get no record from it: 50.0.96.10.in-addr.arpa (10.96.0.50) is not in its zones; they go to the server block cluster.local in-addr.arpa ip6.arpa, where no plugin answers them: SERVFAIL",
    );
  });

  it('is no cause with the reverse zones served, nor when no PTR check failed', () => {
    const ev = healthy();
    ev.coredns.corefile = recorded('Corefile.cluster-local');
    expect(verdict(ev, '10.96.0.10', 'cluster.local', 'dns', PTR_FAILED).cause).toMatch(/look right/);
    noReverse(ev);
    expect(verdict(ev, '10.96.0.10', 'cluster.local', 'dns', ['resolves the name: timeout']).cause).toMatch(
      /look right/,
    );
  });
});

describe("verdict: a node drops the second family only (recorded ip6tables-save, Docker's IPv6 FORWARD policy)", () => {
  const dual = { podCIDRs: ['10.244.0.0/16', 'fd00:10:244::/48'], serviceCIDRs: ['10.96.0.10/32'] };
  const withV6Drop = () => {
    const ev = healthy();
    ev.nodes[1].layer!.firewall = iptablesFirewall(recorded('ip6tables-save.forward-drop.txt'), dual, 'ip6tables');
    return ev;
  };

  it('names the node and the ip6tables policy when a check of the second family failed', () => {
    const failed = ["reaches every backend through the second family's ClusterIP from a pod: … 0/3 answered"];
    const v = verdict(withV6Drop(), '10.96.0.10', 'cluster.local', 'ip', failed);
    expect(v.section).toBe('nodeNetwork');
    expect(v.cause).toBe(
      "n2 drops the cluster's IPv6 traffic: ip6tables filter FORWARD on n2: policy drop (only IPv6 is filtered there: the path matrix's IPv4 pod IPs answer from every node)",
    );
  });

  it('blames it for no IPv4 failure', () => {
    const v = verdict(withV6Drop(), '10.96.0.10', 'cluster.local', 'ip', ['answers: timeout']);
    expect(v.cause).toMatch(/look right/);
    const forward = judge((e) => {
      e.nodes[1].layer!.firewall = iptablesFirewall(recorded('ip6tables-save.forward-drop.txt'), dual, 'ip6tables');
      e.path = { cells: matrix((c) => c.hop === 'pod IP' && c.to === 'n2' && c.from.node !== 'n2'), notes: [] };
    });
    expect(forward.cause).not.toMatch(/ip6tables/);
  });
});
