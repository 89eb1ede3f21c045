// suites/kube-proxy.spec.ts — guide: "Is the kube-proxy working?"
// Proves: kube-proxy runs on every node (its healthz answers there) and reports which mode it runs in; asked from a
// hostNetwork pod on each node, as upstream asks, its healthz answers 200 with lastUpdated and /proxyMode answers 200.
// A failure usually means: kube-proxy is not running on a node, or crashed; read its logs.
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { kubeProxyEndpoints, kubeProxyStatus } from '../helpers/node/kube-proxy.js';
import { skipWithoutNodeAccess } from '../helpers/node/run-on-node.js';
import { useCluster } from '../helpers/suite/fixtures.js';
import type { ClientPod } from '../helpers/workloads/client-pod.js';
import { hostNetworkNamespace, startHostNetworkClient } from '../helpers/workloads/host-network.js';

describe('Is the kube-proxy working?', () => {
  const cluster = useCluster();
  /** A client in each node's network namespace, by node name: it reaches kube-proxy's loopback listeners. */
  const hostClients = new Map<string, ClientPod>();

  beforeAll(async () => {
    const hostNs = await hostNetworkNamespace(cluster, 'kube-proxy-host');
    const started = await Promise.all(
      cluster.nodes.map((n, i) => startHostNetworkClient(cluster, hostNs, `host-client-${i + 1}`, n.name)),
    );
    for (const client of started) hostClients.set(client.node, client);
  });

  for (const node of cluster.nodes) {
    it(`runs kube-proxy on node ${node.name} and reports its mode`, async ({ annotate, skip }) => {
      skipWithoutNodeAccess(cluster, skip);
      const status = await kubeProxyStatus(cluster, node);
      expect(status.running, because('kubeProxy', `kube-proxy on ${node.name}: ${status.problem ?? 'running'}`)).toBe(
        true,
      );
      // The mode the cluster was made with; any mode kube-proxy has on a cluster whose mode is not known here.
      const made = cluster.capabilities.proxyMode;
      expect(
        made === 'unknown' ? ['iptables', 'nftables', 'ipvs'] : [made],
        because('kubeProxy', `mode reported by :10249/proxyMode on ${node.name}`),
      ).toContain(status.mode);
      await annotate(
        `kube-proxy on ${node.name}: mode ${status.mode}, last sync ${new Date((status.lastSync ?? 0) * 1000).toISOString()}`,
      );
    });

    it.concurrent(
      `answers its healthz with lastUpdated and its /proxyMode on ${node.name}, asked from a hostNetwork pod there`,
      async () => {
        const client = hostClients.get(node.name)!;
        const at = kubeProxyEndpoints(node);
        const [health, mode] = await Promise.all([client.http(at.healthz), client.http(`${at.metrics}/proxyMode`)]);
        // svcprobe counts a 200 only, its body as the answer: healthz answers {"lastUpdated": "…", "currentTime": "…", …}.
        const [body] = Object.keys(health.answers);
        const lastUpdated = /"lastUpdated"\s*:\s*"([^"]+)"/.exec(body ?? '')?.[1];
        const from = `from hostNetwork pod ${client.name} on ${node.name}`;
        expect(
          { healthz: Number.isNaN(Date.parse(lastUpdated ?? '')) ? body : 'lastUpdated', proxyMode: mode.ok },
          because(
            'kubeProxy',
            `${at.healthz} ${from}: ${body ?? `${JSON.stringify(health.errors)} ${health.sampleError ?? ''}`}; ${at.metrics}/proxyMode: ${mode.ok ? Object.keys(mode.answers)[0] : `${JSON.stringify(mode.errors)} ${mode.sampleError ?? ''}`}`,
          ),
        ).toEqual({ healthz: 'lastUpdated', proxyMode: 1 });
      },
    );
  }
});
