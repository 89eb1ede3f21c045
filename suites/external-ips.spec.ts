// suites/external-ips.spec.ts — beyond the guide: externalIPs
// Proves: a Service with an externalIP from the provider's test range (local: 10.251.0.0/24, routed to the
// first node only inside the cluster's own namespaces) is answered by its backends when the outside client
// sends to that address via the node, and from a pod; kube-proxy writes the "external IP" rule on every node;
// the host itself never routes the address anywhere (the network rule). A cluster without an outside client
// (yours) runs the checks from a pod and on the nodes.
// A failure usually means: kube-proxy does not program externalIPs (or an admission policy stripped them).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { run } from '../helpers/host/run.js';
import {
  externalHttp,
  externalSkipReason,
  routeFromExternal,
  serviceExternalIP,
} from '../helpers/node/external-client.js';
import { programmedFrontends } from '../helpers/node/proxy-rules.js';
import { skipWithoutNodeAccess } from '../helpers/node/run-on-node.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import { deployHostnames, type Hostnames } from '../helpers/workloads/hostnames.js';
import { hostPort } from '../helpers/address.js';

const TRIES = 6;

describe('Beyond the guide: externalIPs', () => {
  const cluster = useCluster();
  const ns = useNamespace('extip');
  useDiagnosis(ns, 'hostnames');
  const noOutsideClient = externalSkipReason(cluster);
  const externalIP = serviceExternalIP(cluster); // 10.251.0.10 on the local cluster, 10.221.0.10 on kind and k3s
  const node = cluster.nodes[0];
  let app: Hostnames, client: ClientPod;
  let unroute = async () => {};

  beforeAll(async () => {
    [app, client] = await Promise.all([
      deployHostnames(cluster, ns, { tweak: { service: (s) => void (s.spec!.externalIPs = [externalIP]) } }),
      startClientPod(cluster, ns, { node: node.name }),
    ]);
    if (!noOutsideClient) unroute = await routeFromExternal(cluster, externalIP, node.internalIP);
  });
  afterAll(() => unroute());

  it(`is answered on the node the address is routed to (${node.name}), from outside`, async ({ skip }) => {
    if (noOutsideClient) skip(noOutsideClient);
    const url = `http://${hostPort(externalIP, app.port)}/`;
    const tally = await externalHttp(cluster, url, TRIES);
    expect(
      tally.ok,
      because(
        'externalIPs',
        `${url} from outside via ${node.name}: ${tally.ok}/${TRIES} answered (${JSON.stringify(tally.errors)} ${tally.sampleError ?? ''})`,
      ),
    ).toBe(TRIES);
    const backends = (await app.backendsNow()).map((p) => p.name);
    expect(
      Object.keys(tally.answers).every((a) => backends.includes(a)),
      because('externalIPs', `answers ${JSON.stringify(tally.answers)}`),
    ).toBe(true);
  });

  it('is answered from a pod', async () => {
    const url = `http://${hostPort(externalIP, app.port)}/`;
    const tally = await client.http(url, { count: TRIES });
    expect(
      tally.ok,
      because(
        'externalIPs',
        `${url} from pod ${client.name} on ${client.node}: ${tally.ok}/${TRIES} answered (${tally.sampleError ?? ''})`,
      ),
    ).toBe(TRIES);
    const backends = (await app.backendsNow()).map((p) => p.name);
    expect(
      Object.keys(tally.answers).filter((a) => !backends.includes(a)),
      because('externalIPs', `answers from pods that are not backends: ${JSON.stringify(tally.answers)}`),
    ).toEqual([]);
  });

  it('kube-proxy writes the external IP rule on every node', async ({ skip }) => {
    skipWithoutNodeAccess(cluster, skip);
    for (const n of cluster.nodes) {
      const frontends = await programmedFrontends(cluster, n, {
        namespace: ns,
        name: app.name,
        portName: 'default',
        protocol: 'tcp',
      });
      if (!frontends) skip(`no rule parser for kube-proxy mode ${cluster.capabilities.proxyMode}`);
      expect(
        frontends!.externalIPs.map((e) => hostPort(e.ip, e.port ?? '?')),
        because('externalIPs', `"external IP" rules on ${n.name}`),
      ).toEqual([hostPort(externalIP, app.port)]);
    }
  });

  it('the host never routes the test address off the machine', async ({ skip }) => {
    // The local provider's network (createNetwork) and kind's and k3s's (setup/kind/network.sh) make the host route it nowhere.
    if (!cluster.guard)
      skip(`the ${cluster.provider} provider's network is not this project's: its host routes are not ours to check`);
    const { stdout, exitCode, stderr } = await run('ip', ['route', 'get', externalIP], { allowFailure: true });
    expect(
      exitCode !== 0 || /unreachable/.test(stdout),
      `ip route get ${externalIP} on the host: ${stdout}${stderr}`,
    ).toBe(true);
  });
});
