// suites/session-affinity.spec.ts — beyond the guide: sessionAffinity
// Proves: in front of the same three backends, a Service with sessionAffinity: ClientIP sends every request
// of one client to one backend (ClusterIP, NodePort from a pod and from outside, UDP), while the Service
// without affinity spreads the same client's requests; the affinity lapses after its timeoutSeconds without
// traffic, and follows spec.sessionAffinity when it is switched in place (ClientIP → None → ClientIP).
// A failure usually means: kube-proxy dropped the affinity rules (iptables `recent` match, nftables affinity
// sets) or their timeout, or, for the plain Service, that load balancing is stuck on one endpoint.
import type * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { iptablesRulesOnNode, nftRulesOnNode } from '../helpers/node/proxy-rules.js';
import { skipWithoutNodeAccess } from '../helpers/node/run-on-node.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import {
  addService,
  declareUdpPort,
  deployHostnames,
  netexecTcpAndUdpArgs,
  type ExtraService,
  type Hostnames,
} from '../helpers/workloads/hostnames.js';
import { hostPort } from '../helpers/address.js';
import { externalHttp, externalSkipReason } from '../helpers/node/external-client.js';
import {
  describeLook,
  LOOK_REQUESTS,
  setSessionAffinity,
  spread,
  stickyBackend,
  waitUntilSpread,
  waitUntilSticky,
} from '../helpers/workloads/affinity.js';
import { httpEach } from '../helpers/workloads/http-each.js';
import {
  acrossAffinityTimeout,
  AFFINITY_TIMEOUT_SECONDS,
  moved,
  withAffinityTimeout,
  type PortLapse,
} from '../helpers/workloads/affinity-timeout.js';

// With 3 backends and no affinity, 30 requests all landing on one backend has probability 3·3^-30.
const REQUESTS = 30;

describe('Beyond the guide: session affinity', () => {
  const cluster = useCluster();
  const ns = useNamespace('affinity');
  useDiagnosis(ns, 'hostnames', 'hostnames-sticky', 'hostnames-lapse', 'hostnames-switch', 'hostnames-udp');
  let app: Hostnames, client: ClientPod;
  let sticky: ExtraService, switching: ExtraService, lapse: ExtraService, lapseNP: ExtraService, udp: ExtraService;
  const nodePorts = (s: ExtraService) => s.service.spec!.ports!.map((p) => p.nodePort!);

  beforeAll(async () => {
    [app, client] = await Promise.all([
      deployHostnames(cluster, ns, {
        // netexec answers its pod name over HTTP on any path (as serve-hostname does) and over UDP on the same port.
        args: netexecTcpAndUdpArgs('--http-override=/hostname'),
        tweak: {
          deployment: declareUdpPort,
        },
      }),
      startClientPod(cluster, ns),
    ]);
    const clientIP = (s: k8s.V1Service) => void Object.assign(s.spec!, { sessionAffinity: 'ClientIP' });
    const nodePort = (s: k8s.V1Service) => void (s.spec!.type = 'NodePort');
    [sticky, switching, lapse, lapseNP, udp] = await Promise.all([
      addService(cluster, app, 'hostnames-sticky', (s) => (clientIP(s), nodePort(s))),
      addService(cluster, app, 'hostnames-switch', (s) => (clientIP(s), nodePort(s))),
      addService(cluster, app, 'hostnames-lapse', withAffinityTimeout),
      addService(cluster, app, 'hostnames-lapse-np', (s) => (withAffinityTimeout(s), nodePort(s))),
      addService(cluster, app, 'hostnames-udp', (s) => (clientIP(s), void (s.spec!.ports![0].protocol = 'UDP'))),
    ]);
  });

  it('ClientIP affinity sends every request of one client to one backend', async () => {
    const url = `http://${hostPort(sticky.clusterIP, sticky.port)}/`;
    const tally = await client.http(url, { count: REQUESTS, concurrency: 4 });
    expect(tally.ok, because('affinity', `${url}: ${tally.ok}/${REQUESTS} answered (${tally.sampleError ?? ''})`)).toBe(
      REQUESTS,
    );
    expect(
      Object.keys(tally.answers),
      because(
        'affinity',
        `${ns}/${sticky.name} (sessionAffinity ClientIP) from pod ${client.name}: ${JSON.stringify(tally.answers)}`,
      ),
    ).toHaveLength(1);
  });

  it('kube-proxy writes the affinity rules on every node (iptables recent match, nftables affinity sets)', async ({
    skip,
  }) => {
    skipWithoutNodeAccess(cluster, skip);
    const mode = cluster.capabilities.proxyMode;
    if (mode !== 'iptables' && mode !== 'nftables') skip(`no affinity rule parser for kube-proxy mode ${mode}`);
    const timeout = sticky.service.spec!.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    const ref = { namespace: ns, name: sticky.name, portName: 'default', protocol: 'tcp' };
    for (const node of cluster.nodes) {
      const rules =
        mode === 'iptables' ? await iptablesRulesOnNode(cluster, node, ref) : await nftRulesOnNode(cluster, node, ref);
      const where = mode === 'iptables' ? 'recent-match jumps of the KUBE-SVC chain' : 'timeout of the affinity-… sets';
      expect(rules?.affinitySeconds, because('affinity', `${where} for ${ns}/${sticky.name} on ${node.name}`)).toBe(
        timeout,
      );
    }
  });

  it('without affinity the same client reaches several backends', async () => {
    const url = `http://${hostPort(app.clusterIP, app.port)}/`;
    const tally = await client.http(url, { count: REQUESTS, concurrency: 4 });
    expect(tally.ok, because('affinity', `${url}: ${tally.ok}/${REQUESTS} answered (${tally.sampleError ?? ''})`)).toBe(
      REQUESTS,
    );
    expect(
      Object.keys(tally.answers).length,
      because('affinity', `${ns}/${app.name} (no affinity) from pod ${client.name}: ${JSON.stringify(tally.answers)}`),
    ).toBeGreaterThan(1);
  });

  it("ClientIP affinity holds through a NodePort: a pod's requests to each node's address meet one backend", async () => {
    const urls = cluster.nodes.map((node) => `http://${hostPort(node.internalIP, nodePorts(sticky)[0])}/`);
    for (const tally of await httpEach(cluster, client, urls, { count: LOOK_REQUESTS }))
      expect(
        stickyBackend(tally),
        because(
          'affinity',
          `${ns}/${sticky.name} (NodePort, ClientIP) from pod ${client.name} on ${client.node}: ${describeLook(tally)}`,
        ),
      ).toBeDefined();
  });

  it("ClientIP affinity holds through a NodePort from outside the cluster: each node's address sends the client to one backend", async ({
    skip,
  }) => {
    const reason = externalSkipReason(cluster);
    if (reason) skip(reason);
    const urls = cluster.nodes.map((node) => `http://${hostPort(node.internalIP, nodePorts(sticky)[0])}/`);
    // The outside client sends 16 requests at once: the first ones may race to be pinned, so it looks again.
    const look = await waitUntilSticky(cluster, `${ns}/${sticky.name} from outside`, () =>
      Promise.all(urls.map((url) => externalHttp(cluster, url, LOOK_REQUESTS))),
    );
    for (const tally of look)
      expect(
        stickyBackend(tally),
        because(
          'affinity',
          `${ns}/${sticky.name} (NodePort, ClientIP) from outside (${cluster.external!.address}): ${describeLook(tally)}`,
        ),
      ).toBeDefined();
  });

  it(`ClientIP affinity lapses after timeoutSeconds (${AFFINITY_TIMEOUT_SECONDS} s) without traffic, on the ClusterIP and on a NodePort`, async () => {
    const viaClusterIP = lapse.service.spec!.ports!.map((p) => `http://${hostPort(lapse.clusterIP, p.port)}/`);
    const viaNodePort = nodePorts(lapseNP).map((port) => `http://${hostPort(cluster.nodes[0].internalIP, port)}/`);
    // Every port of both Services keeps a record of its own: one quiet period serves them all.
    const lapses = await acrossAffinityTimeout(
      cluster,
      client,
      [...viaClusterIP, ...viaNodePort],
      AFFINITY_TIMEOUT_SECONDS,
    );
    for (const [service, ofService] of [
      [lapse, lapses.slice(0, viaClusterIP.length)],
      [lapseNP, lapses.slice(viaClusterIP.length)],
    ] as const) {
      const what = `${ns}/${service.name} (${service.service.spec!.type}, ClientIP, timeoutSeconds ${AFFINITY_TIMEOUT_SECONDS}) from pod ${client.name}`;
      for (const { before } of ofService)
        expect(
          stickyBackend(before),
          because('affinity', `${what}, before the quiet period: ${describeLook(before)}`),
        ).toBeDefined();
      expect(
        ofService.filter(moved).length,
        because(
          'affinity',
          `${what}: after ${AFFINITY_TIMEOUT_SECONDS + 1} s without traffic, no port's next request met another backend (the affinity never lapsed): ${describeLapses(ofService)}`,
        ),
      ).toBeGreaterThan(0);
    }
  });

  it('switching sessionAffinity in place ClientIP → None → ClientIP: sticky, then spread, then sticky again (ClusterIP and NodePort)', async () => {
    const urls = [
      `http://${hostPort(switching.clusterIP, switching.port)}/`,
      `http://${hostPort(cluster.nodes[0].internalIP, nodePorts(switching)[0])}/`,
    ];
    // The two addresses share the Service port's affinity record: one after the other, so they never race for it.
    const look = () => httpEach(cluster, client, urls, { count: LOOK_REQUESTS, oneAtATime: true });
    const ref = { namespace: ns, name: switching.name };
    const what = `${ns}/${switching.name} (NodePort) from pod ${client.name}`;
    const budget = `${cluster.settings.timeouts.serviceSync} ms`;
    for (const tally of await look())
      expect(
        stickyBackend(tally),
        because('affinity', `${what}, sessionAffinity ClientIP: ${describeLook(tally)}`),
      ).toBeDefined();

    await setSessionAffinity(cluster, ref, 'None');
    for (const tally of await waitUntilSpread(cluster, `${what} with affinity None`, look))
      expect(
        spread(tally),
        because('affinity', `${what}, switched to sessionAffinity None, still after ${budget}: ${describeLook(tally)}`),
      ).toBe(true);

    await setSessionAffinity(cluster, ref, 'ClientIP');
    for (const tally of await waitUntilSticky(cluster, `${what} with affinity ClientIP`, look))
      expect(
        stickyBackend(tally),
        because(
          'affinity',
          `${what}, switched back to sessionAffinity ClientIP, still after ${budget}: ${describeLook(tally)}`,
        ),
      ).toBeDefined();
  });

  it('ClientIP affinity holds for UDP: datagrams of one client, each from a new source port, meet one backend', async () => {
    const address = hostPort(udp.clusterIP, udp.port);
    // Looked at until sticky: the readiness probe is TCP, and without node access nothing waited for the UDP rules.
    const [tally] = await waitUntilSticky(cluster, `${ns}/${udp.name} from pod ${client.name}`, async () => [
      await client.udp(address, { count: LOOK_REQUESTS }),
    ]);
    expect(
      stickyBackend(tally),
      because('affinity', `${ns}/${udp.name} (UDP, ClientIP) from pod ${client.name}: ${describeLook(tally)}`),
    ).toBeDefined();
  });
});

/** Each port's backend before the quiet period and the one its next request met: ":81 a → b". */
function describeLapses(lapses: PortLapse[]): string {
  const port = (url: string) => /(:\d+)\/$/.exec(url)?.[1] ?? url;
  const after = (l: PortLapse) => Object.keys(l.after.answers)[0] ?? l.after.sampleError ?? 'no answer';
  return lapses.map((l) => `${port(l.url)} ${stickyBackend(l.before) ?? '?'} → ${after(l)}`).join(', ');
}
