// suites/kube-proxy.spec.ts — guide: "Is the kube-proxy working?"
// Proves: kube-proxy runs on every node (its healthz answers there) and reports which mode it runs in.
// A failure usually means: kube-proxy is not running on a node, or crashed; read its logs.
import { describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { kubeProxyStatus } from '../helpers/node/kube-proxy.js';
import { skipWithoutNodeAccess } from '../helpers/node/run-on-node.js';
import { useCluster } from '../helpers/suite/fixtures.js';

describe('Is the kube-proxy working?', () => {
  const cluster = useCluster();

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
  }
});
