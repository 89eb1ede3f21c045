// suites/source-ip.spec.ts — beyond the guide: the source address of pod → ClusterIP traffic
// Proves: a backend (agnhost netexec /clientip) reached through the ClusterIP sees the client pod's own pod IP, both
// from a pod on the backend's node and from a pod on another node (2 nodes; skipped with the reason on 1): kube-proxy
// does not masquerade traffic from pods to a ClusterIP.
// A failure usually means: kube-proxy masquerades every packet to Service IPs (masqueradeAll, --masquerade-all), or
// does not know the pod range (no --cluster-cidr / detectLocal) so it takes pod traffic for outside traffic.
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { section } from '../helpers/diagnose/sections.js';
import { nodeAccessSkipReason } from '../helpers/node/run-on-node.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import { deployHostnames, netexecArgs, type Hostnames } from '../helpers/workloads/hostnames.js';
import { rulesMentioning, rulesMentioningSkipReason } from '../helpers/workloads/rules-mentioning.js';
import { hostOf, hostPort } from '../helpers/address.js';

/** A line of kube-proxy's rules that marks the ClusterIP's traffic for masquerade whatever its source. */
const MARKS = /KUBE-MARK-MASQ|mark-for-masquerade/;
const SOURCE_LIMITED = /! -s |saddr != /;

const sourceIp = section('Beyond the guide: source IP', {
  next: "kube-proxy must not masquerade pod traffic to a ClusterIP: check its masqueradeAll (--masquerade-all) is off and that it knows the pod range (clusterCIDR / detectLocalMode), then read the Service's KUBE-MARK-MASQ (nftables: mark-for-masquerade) rule on the client's node",
  // The Service's masquerade marks on each node: a mark with no "not from the pod range" condition takes pod traffic too.
  evidence: async (cluster, service) => {
    const noAccess = nodeAccessSkipReason(cluster) ?? rulesMentioningSkipReason(cluster);
    if (noAccess) return [`rules not read: ${noAccess}`];
    const svc = await cluster.kube.core.readNamespacedService(service);
    const clusterIP = svc.spec?.clusterIP ?? '';
    const lines = await Promise.all(
      cluster.nodes.map(async (node) =>
        (await rulesMentioning(cluster, node, clusterIP))
          .filter((line) => MARKS.test(line))
          .map((line) => `${node.name}: masquerade mark for ${clusterIP}: ${line}`),
      ),
    );
    return lines.flat();
  },
  verdict: (_evidence, lines) => {
    const always = lines.filter((line) => line.includes(': masquerade mark for ') && !SOURCE_LIMITED.test(line));
    if (!always.length) return undefined;
    return `kube-proxy marks every packet to the ClusterIP for masquerade, from pods too (masqueradeAll): ${always.join('; ')}`;
  },
});

const TRIES = 6;

describe(sourceIp.title, () => {
  const cluster = useCluster();
  const ns = useNamespace('source-ip');
  useDiagnosis(ns, 'hostnames');
  const [backendNode, other] = cluster.nodes;
  const crossNode =
    cluster.nodes.length < 2
      ? `needs 2 nodes (a client on another node than the backend); this cluster has ${cluster.nodes.length}`
      : undefined;
  let app: Hostnames, sameNode: ClientPod, otherNode: ClientPod | undefined;
  const url = () => `http://${hostPort(app.clusterIP, app.port)}/clientip`;

  beforeAll(async () => {
    [app, sameNode, otherNode] = await Promise.all([
      deployHostnames(cluster, ns, {
        args: netexecArgs(),
        replicas: 1,
        tweak: { deployment: (d) => void (d.spec!.template.spec!.nodeName = backendNode.name) },
      }),
      startClientPod(cluster, ns, { name: 'client-same-node', node: backendNode.name }),
      crossNode ? undefined : startClientPod(cluster, ns, { name: 'client-other-node', node: other.name }),
    ]);
  });

  /** The addresses the backend saw the client's requests come from (netexec /clientip answers "ip:port"). */
  async function sourcesSeen(client: ClientPod): Promise<{ answered: number; sources: string[]; detail: string }> {
    const tally = await client.http(url(), { count: TRIES, concurrency: TRIES });
    const sources = [...new Set(Object.keys(tally.answers).map(hostOf))].sort();
    const detail = `${url()} from pod ${client.name} (${client.ip}) on ${client.node}, backend on ${backendNode.name}: ${tally.ok}/${TRIES} answered, sources seen ${sources.join(', ') || 'none'} ${tally.sampleError ?? ''}`;
    return { answered: tally.ok, sources, detail };
  }

  it("a pod on the backend's node is seen by the backend with its own pod IP through the ClusterIP (no SNAT)", async () => {
    const { answered, sources, detail } = await sourcesSeen(sameNode);
    expect({ answered, sources }, because(sourceIp, detail)).toEqual({ answered: TRIES, sources: [sameNode.ip] });
  });

  it('a pod on another node is seen by the backend with its own pod IP through the ClusterIP (no SNAT)', async ({
    skip,
  }) => {
    if (crossNode) skip(crossNode);
    const { answered, sources, detail } = await sourcesSeen(otherNode!);
    expect({ answered, sources }, because(sourceIp, detail)).toEqual({ answered: TRIES, sources: [otherNode!.ip] });
  });
});
