// suites/node-to-vip.spec.ts — guide: "Is kube-proxy proxying?"
// Proves: from each node, ClusterIP:80 answers with a backend's name, and kube-proxy synced its rules after the Service appeared.
// A failure usually means: kube-proxy stopped (rules stale or flushed), or its DNAT targets are wrong.
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { kubeProxyStatus } from '../helpers/node/kube-proxy.js';
import { nodeHttp } from '../helpers/node/node-probe.js';
import { nodeAccessSkipReason } from '../helpers/node/run-on-node.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { skipAllWith, useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { deployHostnames, type Hostnames } from '../helpers/workloads/hostnames.js';
import { hostPort } from '../helpers/address.js';

describe('Is kube-proxy proxying?', () => {
  const cluster = useCluster();
  const noAccess = nodeAccessSkipReason(cluster);
  skipAllWith(noAccess);
  const ns = useNamespace('node-vip');
  useDiagnosis(ns, 'hostnames');
  let app: Hostnames;

  beforeAll(async () => {
    if (noAccess) return;
    app = await deployHostnames(cluster, ns);
  });

  for (const node of cluster.nodes) {
    it(`answers ClusterIP:80 from node ${node.name} with a backend's name`, async () => {
      const tally = await nodeHttp(cluster, node, `http://${hostPort(app.clusterIP, app.port)}/`, 6);
      const names = (await app.backendsNow()).map((p) => p.name);
      expect(
        tally.ok,
        because(
          'proxying',
          `from ${node.name} to ${hostPort(app.clusterIP, app.port)}: ${JSON.stringify(tally.errors)} ${tally.sampleError ?? ''}`,
        ),
      ).toBe(6);
      expect(
        Object.keys(tally.answers).filter((a) => !names.includes(a)),
        because('proxying', 'answers that are not backend pod names'),
      ).toEqual([]);
    });

    it(`shows kube-proxy on ${node.name} synced its rules after the Service was created`, async () => {
      const created = new Date(app.service.metadata!.creationTimestamp!).getTime() / 1000;
      const status = await kubeProxyStatus(cluster, node);
      expect(
        status.lastSync,
        because(
          'proxying',
          `kubeproxy_sync_proxy_rules_last_timestamp_seconds on ${node.name} vs Service created at ${created}`,
        ),
      ).toBeGreaterThanOrEqual(Math.floor(created));
    });
  }
});
