import { describe, expect, it } from 'vitest';
import type { Evidence } from './evidence.js';
import { sectionTitled, verdict } from './verdict.js';

const healthy = (): Evidence => ({
  namespace: 'ns',
  service: 'hostnames',
  found: true,
  serviceSpec: { clusterIP: '10.96.0.50', selector: { app: 'hostnames' } },
  pods: [
    {
      name: 'h-a',
      container: 'hostnames',
      node: 'n1',
      ip: '10.244.1.3',
      ready: true,
      restarts: 0,
      summary: 'h-a (Running, ready)',
    },
  ],
  definitionProblems: [],
  endpoints: [{ address: '10.244.1.3:9376', ip: '10.244.1.3', port: 9376, ready: true }],
  slices: [{ address: '10.244.1.3:9376', ip: '10.244.1.3', port: 9376, ready: true }],
  events: [],
  nodes: [
    {
      node: 'n1',
      kubeProxy: { node: 'n1', running: true, mode: 'iptables' },
      programmed: ['10.244.1.3:9376'],
      missingPodRoutes: [],
      hairpin: [{ pod: 'h-a', on: true, description: 'on' }],
      errors: [],
    },
  ],
  coredns: { readyPods: 1, pods: ['coredns-x (Running, ready)'], directQuery: 'ok 10.96.0.1' },
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
    expect(judge((e) => (e.nodes[0].programmed = [])).cause).toContain('no rule for 10.244.1.3:9376');
  });

  it('names CoreDNS with no ready pods, then a wrong kubelet clusterDNS', () => {
    expect(judge((e) => ((e.coredns.readyPods = 0), (e.coredns.pods = []))).cause).toContain(
      'CoreDNS has no ready pods',
    );
    expect(judge((e) => (e.resolvConf!.conf.nameservers = ['10.96.0.99'])).cause).toContain(
      "kubelet's clusterDNS is wrong",
    );
  });

  it('names missing pod routes between nodes, and hairpin off', () => {
    expect(judge((e) => (e.nodes[0].missingPodRoutes = ['10.244.2.0/24'])).cause).toContain(
      'n1 has no route to 10.244.2.0/24',
    );
    expect(
      judge((e) => (e.nodes[0].hairpin = [{ pod: 'h-a', on: false, description: 'hairpin_mode 0' }])).section,
    ).toBe('hairpin');
  });

  it('says a missing Service is missing', () => {
    expect(judge((e) => (e.found = false)).cause).toBe('Service ns/hostnames does not exist');
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
