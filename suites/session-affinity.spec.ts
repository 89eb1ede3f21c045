// suites/session-affinity.spec.ts — beyond the guide: sessionAffinity
// Proves: in front of the same three backends, a Service with sessionAffinity: ClientIP sends every request
// of one client to one backend, while the Service without affinity spreads the same client's requests.
// A failure usually means: kube-proxy dropped the affinity rules (iptables `recent` match, nftables affinity
// sets), or, for the plain Service, that load balancing is stuck on one endpoint.
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { iptablesRulesOnNode, nftRulesOnNode } from '../helpers/node/proxy-rules.js';
import { skipWithoutNodeAccess } from '../helpers/node/run-on-node.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import { addService, deployHostnames, type ExtraService, type Hostnames } from '../helpers/workloads/hostnames.js';
import { hostPort } from '../helpers/address.js';

// With 3 backends and no affinity, 30 requests all landing on one backend has probability 3·3^-30.
const REQUESTS = 30;

describe('Beyond the guide: session affinity', () => {
  const cluster = useCluster();
  const ns = useNamespace('affinity');
  useDiagnosis(ns, 'hostnames', 'hostnames-sticky');
  let app: Hostnames, sticky: ExtraService, client: ClientPod;

  beforeAll(async () => {
    [app, client] = await Promise.all([deployHostnames(cluster, ns), startClientPod(cluster, ns)]);
    sticky = await addService(cluster, app, 'hostnames-sticky', (s) =>
      Object.assign(s.spec!, { sessionAffinity: 'ClientIP' }),
    );
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
});
