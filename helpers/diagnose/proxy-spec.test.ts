import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { EndpointAddress } from '../kube/services.js';
import { parseConntrack } from '../parse/conntrack.js';
import { expectedEndpoints, iptablesServiceRules, ruleProblems, staleUdpFlows } from './proxy-spec.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', 'parse', 'fixtures', name), 'utf8');
const endpoint = (ip: string, node: string, ready = true): EndpointAddress => ({
  address: `${ip}:9376`,
  ip,
  port: 9376,
  portName: 'http',
  ready,
  node,
});

// Recorded on the self-test's 2-node cluster (fixtures README): namespace `fixture`, one hostnames pod on
// selftest-node-1 behind `sticky` (sessionAffinity ClientIP) and `local` (NodePort 30081, externalTrafficPolicy
// Local), read on selftest-node-2, which has no endpoint of its own.
const ONE_POD = [endpoint('10.244.1.20', 'selftest-node-1')];
const sticky = { namespace: 'fixture', name: 'sticky', portName: 'http' };
const local = { namespace: 'fixture', name: 'local', portName: 'http' };
const STICKY: k8s.V1ServiceSpec = {
  sessionAffinity: 'ClientIP',
  sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
};
const LOCAL: k8s.V1ServiceSpec = { type: 'NodePort', externalTrafficPolicy: 'Local' };

describe('ruleProblems (recorded: upstream kube-proxy v1.34.4 and two mutants of it)', () => {
  it('finds nothing wrong in upstream kube-proxy rules: affinity 10800 s, Local not masqueraded and dropped here', () => {
    const save = fixture('iptables-save.spec-features.txt');
    const stickyRules = iptablesServiceRules(save, sticky)!;
    expect(stickyRules.affinitySeconds).toBe(10800);
    expect(ruleProblems('fixture/sticky', STICKY, 'selftest-node-2', stickyRules, ONE_POD)).toEqual([]);
    const localRules = iptablesServiceRules(save, local)!;
    expect(localRules).toMatchObject({
      nodePorts: [30081],
      masqueradesExternal: false,
      dropsWithoutLocalEndpoints: true,
    });
    expect(ruleProblems('fixture/local', LOCAL, 'selftest-node-2', localRules, ONE_POD)).toEqual([]);
  });

  it('names the missing affinity rules of the sessionAffinity mutant, with the chain and the timeout', () => {
    const rules = iptablesServiceRules(fixture('iptables-save.affinity-ignored.txt'), sticky)!;
    const [problem, ...rest] = ruleProblems('fixture/sticky', STICKY, 'selftest-node-2', rules, ONE_POD);
    expect(rest).toEqual([]);
    expect(problem.section).toBe('affinity');
    expect(problem.problem).toMatch(
      /^kube-proxy's rules on selftest-node-2 \(iptables\) ignore sessionAffinity ClientIP of fixture\/sticky: no recent-match jumps in KUBE-SVC-\w+ \(timeout 10800 s expected\)$/,
    );
  });

  it('says a Service without affinity got some, and a wrong timeout', () => {
    const rules = iptablesServiceRules(fixture('iptables-save.spec-features.txt'), sticky)!;
    expect(ruleProblems('fixture/sticky', {}, 'n', rules, ONE_POD)[0].problem).toMatch(
      /though its sessionAffinity is None/,
    );
    const shorter = { ...STICKY, sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } };
    expect(ruleProblems('fixture/sticky', shorter, 'n', rules, ONE_POD)[0].problem).toMatch(
      /10800 s, not its timeoutSeconds 60 s/,
    );
  });

  it('names the masquerade and the missing drop of the externalTrafficPolicy mutant on the node without an endpoint', () => {
    const rules = iptablesServiceRules(fixture('iptables-save.etp-local-ignored.txt'), local)!;
    const problems = ruleProblems('fixture/local', LOCAL, 'selftest-node-2', rules, ONE_POD);
    expect(problems.map((p) => p.section)).toEqual(['trafficPolicy', 'trafficPolicy']);
    expect(problems[0].problem).toMatch(
      /^kube-proxy's rules on selftest-node-2 \(iptables\) ignore externalTrafficPolicy Local of fixture\/local: its external chain KUBE-EXT-\w+ masquerades every packet of NodePort 30081/,
    );
    expect(problems[1].problem).toMatch(/selftest-node-2 has no local endpoint, yet no rule drops NodePort 30081/);
  });
});

describe('ruleProblems: a Service without endpoints (recorded: iptables-save.services.txt)', () => {
  const save = fixture('iptables-save.services.txt');
  const empty = iptablesServiceRules(save, { namespace: 'default', name: 'empty', portName: 'http' })!;

  it("sees kube-proxy's REJECT, and names its absence", () => {
    expect(empty).toMatchObject({ endpoints: [], rejectsWithoutEndpoints: true });
    expect(ruleProblems('default/empty', {}, 'n1', empty, [])).toEqual([]);
    const [problem] = ruleProblems('default/empty', {}, 'n1', { ...empty, rejectsWithoutEndpoints: false }, []);
    expect(problem).toMatchObject({
      section: 'rules',
      problem: expect.stringMatching(/do not reject default\/empty, which has no endpoints/),
    });
  });
});

describe('expectedEndpoints', () => {
  const slices = [endpoint('10.236.1.4', 'n1'), endpoint('10.236.2.3', 'n2'), endpoint('10.236.1.9', 'n1', false)];

  it("is every ready endpoint, or only the node's own with internalTrafficPolicy Local", () => {
    expect(expectedEndpoints({}, 'n1', slices)).toEqual(['10.236.1.4:9376', '10.236.2.3:9376']);
    expect(expectedEndpoints({ internalTrafficPolicy: 'Local' }, 'n1', slices)).toEqual(['10.236.1.4:9376']);
  });

  // As the EndpointSlice controller hints them: PreferClose per zone, PreferSameNode per node and zone.
  const hinted = (ip: string, node: string, zone: string, byNode = false): EndpointAddress => ({
    ...endpoint(ip, node),
    zoneHints: [zone],
    ...(byNode ? { nodeHints: [node] } : {}),
  });

  it("is the ready endpoints hinted for the node's zone (PreferClose), or for the node itself (PreferSameNode)", () => {
    const zoned = [hinted('10.236.1.4', 'n1', 'zone-1'), hinted('10.236.2.3', 'n2', 'zone-2')];
    expect(expectedEndpoints({}, 'n1', zoned, 'zone-1')).toEqual(['10.236.1.4:9376']);
    expect(expectedEndpoints({}, 'n2', zoned, 'zone-2')).toEqual(['10.236.2.3:9376']);
    const perNode = [hinted('10.236.1.4', 'n1', 'zone-1', true), hinted('10.236.3.2', 'n3', 'zone-1', true)];
    expect(expectedEndpoints({}, 'n3', perNode, 'zone-1')).toEqual(['10.236.3.2:9376']);
  });

  it('falls back as kube-proxy does: to the zone for a node no endpoint is hinted for, to all for a zone none is', () => {
    const perNode = [hinted('10.236.1.4', 'n1', 'zone-1', true), hinted('10.236.2.3', 'n2', 'zone-2', true)];
    expect(expectedEndpoints({}, 'n3', perNode, 'zone-2')).toEqual(['10.236.2.3:9376']);
    expect(expectedEndpoints({}, 'n4', perNode, 'zone-3')).toEqual(['10.236.1.4:9376', '10.236.2.3:9376']);
    // One ready endpoint without a hint: kube-proxy ignores every hint.
    const partly = [hinted('10.236.1.4', 'n1', 'zone-1'), endpoint('10.236.2.3', 'n2')];
    expect(expectedEndpoints({}, 'n1', partly, 'zone-1')).toEqual(['10.236.1.4:9376', '10.236.2.3:9376']);
  });
});

describe("staleUdpFlows (recorded: conntrack -L on the client's node after its backend was deleted, UDP cleanup mutant)", () => {
  const entries = parseConntrack(fixture('conntrack-L.udp-stale.txt'));

  it('finds the UDP flows to the ClusterIP still answered by the deleted pod, not those of the live one', () => {
    const [clusterIP, dead, live] = readFixtureFacts();
    const stale = staleUdpFlows(entries, [{ address: clusterIP, port: 80 }], [endpoint(live, 'selftest-node-1')]);
    expect(stale.length).toBeGreaterThan(0);
    expect(new Set(stale.map((e) => e.reply.src))).toEqual(new Set([dead]));
    expect(
      staleUdpFlows(entries, [{ address: clusterIP, port: 80 }], [endpoint(dead, 'x'), endpoint(live, 'y')]),
    ).toEqual([]);
  });
});

describe('staleUdpFlows (recorded: conntrack -L -p udp on both nodes while a NodePort flow stayed on the REJECT of a moment without endpoints, UDP cleanup mutant)', () => {
  const onNode = (i: number) => {
    const text = fixture(`conntrack-L.udp-nodeport-stale.node-${i}.txt`);
    const [, nodePort, node, live] = /nodePort=(\d+) node=(\S+) live=(\S+)/.exec(text)!;
    return { entries: parseConntrack(text), frontend: { address: node, port: Number(nodePort) }, live };
  };

  it("finds the flow on the node whose NodePort it entered, still answered by that node's own address", () => {
    const { entries, frontend, live } = onNode(2);
    const stale = staleUdpFlows(entries, [frontend], [endpoint(live, 'selftest-node-2')]);
    expect(stale.map((e) => `${e.original.dst}:${e.original.dport} ${e.reply.src}:${e.reply.sport}`)).toEqual([
      '10.250.0.12:31224 10.250.0.12:31224',
    ]);
  });

  it('does not count the same flow on the node it only passes through, nor before any endpoint is ready', () => {
    const client = onNode(1);
    expect(staleUdpFlows(client.entries, [client.frontend], [endpoint(client.live, 'selftest-node-2')])).toEqual([]);
    const server = onNode(2);
    expect(staleUdpFlows(server.entries, [server.frontend], [])).toEqual([]);
  });
});

/** The ClusterIP, the deleted pod and its replacement, as the fixture's first line (a comment) records them. */
function readFixtureFacts(): [string, string, string] {
  const facts = /clusterIP=(\S+) deleted=(\S+) live=(\S+)/.exec(fixture('conntrack-L.udp-stale.txt'))!;
  return [facts[1], facts[2], facts[3]];
}
