// suites/ip-families.spec.ts — beyond the guide: IPv6 and dual-stack
// Proves: on a cluster that serves IPv6, a PreferDualStack Service gets a ClusterIP of each family the
// cluster has, and its IPv6 ClusterIP reaches every backend; on an IPv4-only cluster it skips with the reason.
// A failure usually means: kube-proxy does not program the IPv6 family (ip6tables / ip6 kube-proxy table), or
// the CNI gives pods no IPv6 address.
import { beforeAll, describe, expect, it } from 'vitest';
import { ipv6SkipReason } from '../helpers/cluster/families.js';
import { because } from '../helpers/diagnose/guide.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import { deployHostnames, type Hostnames } from '../helpers/workloads/hostnames.js';
import { describeDistribution, roundRobin } from '../helpers/workloads/round-robin.js';

describe('Beyond the guide: IPv6 and dual-stack', () => {
  const cluster = useCluster();
  const ns = useNamespace('ipfam');
  useDiagnosis(ns, 'hostnames');
  const families = cluster.capabilities.ipFamilies;
  const reason = ipv6SkipReason(cluster);
  let app: Hostnames, client: ClientPod;

  beforeAll(async () => {
    if (reason) return;
    [app, client] = await Promise.all([
      deployHostnames(cluster, ns, { tweak: { service: (s) => void (s.spec!.ipFamilyPolicy = 'PreferDualStack') } }),
      startClientPod(cluster, ns, { node: cluster.nodes[0].name }),
    ]);
  });

  it("gets a ClusterIP of each of the cluster's families", ({ skip }) => {
    if (reason) skip(reason);
    const got = app.service.spec!.ipFamilies ?? [];
    expect(
      [...got].sort(),
      because(
        'ip',
        `Service ${ns}/${app.name} ipFamilies ${got.join(', ')}, clusterIPs ${app.service.spec!.clusterIPs?.join(', ')}`,
      ),
    ).toEqual([...families].sort());
  });

  it('reaches every backend through the IPv6 ClusterIP', async ({ skip }) => {
    if (reason) skip(reason);
    const v6 = app.service.spec!.clusterIPs?.find((ip) => ip.includes(':'));
    expect(v6, because('ip', `no IPv6 ClusterIP on ${ns}/${app.name}`)).toBeDefined();
    const rr = await roundRobin(
      client,
      `http://[${v6}]:${app.port}/`,
      (await app.backendsNow()).map((p) => p.name),
    );
    expect(rr.missing, because('ip', `[${v6}]:${app.port} from ${client.node}: ${describeDistribution(rr)}`)).toEqual(
      [],
    );
  });
});
