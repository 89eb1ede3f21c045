// suites/external-traffic-policy.spec.ts — beyond the guide: externalTrafficPolicy: Local
// Proves: with one backend, on the first node, a NodePort Service with externalTrafficPolicy: Local answers
// on that node from outside with the client's own address as the source (no SNAT), and a node without a local
// endpoint does not answer at all; kube-proxy's external chain does not masquerade outside traffic (checked on
// the nodes' rules, so it runs on one node and without an outside client too).
// A failure usually means: kube-proxy ignores the policy (masquerades, or forwards to another node's endpoint).
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { externalHttp, externalSkipReason } from '../helpers/node/external-client.js';
import { programmedFrontends } from '../helpers/node/proxy-rules.js';
import { nodeAccessSkipReason, skipWithoutNodeAccess } from '../helpers/node/run-on-node.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { deployHostnames, netexecArgs, type Hostnames } from '../helpers/workloads/hostnames.js';
import { hostOf, hostPort } from '../helpers/address.js';

const TRIES = 6;

/** Why the checks that send from outside cannot run: they need the outside client, and a node without the backend. */
function outsideSkipReason(nodes: number, external: string | undefined): string | undefined {
  if (nodes < 2) return `needs 2 nodes (one with the backend, one without); this cluster has ${nodes}`;
  return external;
}

describe('Beyond the guide: externalTrafficPolicy', () => {
  const cluster = useCluster();
  const ns = useNamespace('etp');
  useDiagnosis(ns, 'hostnames');
  const fromOutside = outsideSkipReason(cluster.nodes.length, externalSkipReason(cluster));
  const [withBackend, without] = cluster.nodes;
  let app: Hostnames, nodePort: number;

  beforeAll(async () => {
    if (fromOutside && nodeAccessSkipReason(cluster)) return; // no check here can run
    app = await deployHostnames(cluster, ns, {
      args: netexecArgs(),
      replicas: 1,
      tweak: {
        deployment: (d) => void (d.spec!.template.spec!.nodeName = withBackend.name),
        service: (s) => Object.assign(s.spec!, { type: 'NodePort', externalTrafficPolicy: 'Local' }),
      },
    });
    nodePort = app.service.spec!.ports![0].nodePort!;
  });

  it('Local keeps the client address: the backend sees the outside client itself', async ({ skip }) => {
    if (fromOutside) skip(fromOutside);
    const url = `http://${hostPort(withBackend.internalIP, nodePort)}/clientip`;
    const tally = await externalHttp(cluster, url, TRIES);
    const sources = [...new Set(Object.keys(tally.answers).map(hostOf))];
    expect(
      tally.ok,
      because(
        'trafficPolicy',
        `${url} from outside: ${tally.ok}/${TRIES} answered (${JSON.stringify(tally.errors)} ${tally.sampleError ?? ''})`,
      ),
    ).toBe(TRIES);
    expect(
      sources,
      because(
        'trafficPolicy',
        `the backend on ${withBackend.name} saw ${sources.join(', ')}; the client is ${cluster.external!.address} (SNAT happened)`,
      ),
    ).toEqual([cluster.external!.address]);
  });

  it('Local: a node without a local endpoint does not answer', async ({ skip }) => {
    if (fromOutside) skip(fromOutside);
    const url = `http://${hostPort(without.internalIP, nodePort)}/hostname`;
    const tally = await externalHttp(cluster, url, TRIES);
    expect(
      tally.ok,
      because(
        'trafficPolicy',
        `${url} (no backend on ${without.name}) answered ${tally.ok}/${TRIES}: ${JSON.stringify(tally.answers)}: traffic was forwarded to another node`,
      ),
    ).toBe(0);
  });

  it('Local: kube-proxy does not masquerade outside traffic for the Service', async ({ skip }) => {
    skipWithoutNodeAccess(cluster, skip);
    for (const node of cluster.nodes) {
      const frontends = await programmedFrontends(cluster, node, {
        namespace: ns,
        name: app.name,
        portName: 'default',
        protocol: 'tcp',
      });
      if (!frontends) skip(`no rule parser for kube-proxy mode ${cluster.capabilities.proxyMode}`);
      expect(
        frontends!.nodePorts.map((p) => p.port),
        because('trafficPolicy', `NodePort rules on ${node.name}`),
      ).toEqual([nodePort]);
      expect(
        frontends!.masqueradesExternal,
        because('trafficPolicy', `the external chain on ${node.name} masquerades every packet`),
      ).toBe(false);
    }
  });
});
