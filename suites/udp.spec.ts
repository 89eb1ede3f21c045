// suites/udp.spec.ts — beyond the guide: UDP Services
// Proves: a UDP Service (80/UDP → 9376, agnhost serve-hostname --udp) reaches every backend, a new source port
// per datagram; and when the backend of a running flow goes away, kube-proxy clears that flow's conntrack
// entry, so the same flow (same source port) is answered by a live backend instead of being black-holed.
// A failure usually means: kube-proxy's UDP rules are missing, or it no longer deletes conntrack entries
// of removed UDP endpoints (the classic stale-DNS-server bug).
import { randomInt } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { waitFor } from '../helpers/kube/wait.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod, type FlowResult } from '../helpers/workloads/client-pod.js';
import { deployHostnames, HOSTNAMES_PORT, type Hostnames } from '../helpers/workloads/hostnames.js';
import { describeDistribution, roundRobinWith } from '../helpers/workloads/round-robin.js';
import { hostPort } from '../helpers/address.js';
import { endpointSliceAddresses } from '../helpers/kube/services.js';
import { runOnNode, nodeAccessSkipReason } from '../helpers/node/run-on-node.js';
import { flowEntry, parseConntrack } from '../helpers/parse/conntrack.js';
import { readyBackendsNow } from '../helpers/workloads/backends.js';

describe('Beyond the guide: UDP', () => {
  const cluster = useCluster();
  const ns = useNamespace('udp');
  useDiagnosis(ns, 'hostnames');
  let app: Hostnames, client: ClientPod;
  const address = () => `${hostPort(app.clusterIP, app.port)}`;

  beforeAll(async () => {
    [app, client] = await Promise.all([
      deployHostnames(cluster, ns, {
        // Raw TCP too, so the TCP readiness probe still tells whether the server is up.
        args: ['serve-hostname', '--udp', '--tcp', '--http=false', `--port=${HOSTNAMES_PORT}`],
        tweak: {
          deployment: (d) =>
            d.spec!.template.spec!.containers[0].ports!.push({
              name: 'serve-udp',
              containerPort: HOSTNAMES_PORT,
              protocol: 'UDP',
            }),
          service: (s) => void (s.spec!.ports![0].protocol = 'UDP'),
        },
      }),
      startClientPod(cluster, ns, { node: cluster.nodes[0].name }),
    ]);
  });

  it('answers on ClusterIP:80/UDP from every backend pod', async () => {
    const rr = await roundRobinWith(
      address(),
      (await app.backendsNow()).map((p) => p.name),
      (count) => client.udp(address(), { count }),
    );
    expect(rr.missing, because('udp', `${address()}/UDP from ${client.node}: ${describeDistribution(rr)}`)).toEqual([]);
    expect(
      rr.unexpected,
      because('udp', `answers from pods that are not backends: ${describeDistribution(rr)}`),
    ).toEqual([]);
  });

  it('moves a running flow to a live backend when its backend goes away (conntrack cleared)', async () => {
    const localPort = randomInt(20_000, 30_000);
    const flow = (count: number) => client.udpFlow(address(), { count, intervalMs: 200, localPort });
    const first = await flow(3);
    const backend = first.sequence.at(-1)!;
    const pod = (await app.backendsNow()).find((p) => p.name === backend);
    expect(
      pod,
      because('udp', `the flow from port ${localPort} was answered by ${describeFlow(first)}, not by one backend`),
    ).toBeDefined();

    await cluster.kube.core.deleteNamespacedPod({ namespace: ns, name: pod!.name, gracePeriodSeconds: 0 });
    await waitFor(
      `${pod!.name} (${pod!.ip}) gone from the EndpointSlices of ${ns}/${app.name}`,
      cluster.settings.timeouts.podsReady,
      async () => {
        const ips = (await endpointSliceAddresses(cluster.kube, ns, app.name)).filter((e) => e.ready).map((e) => e.ip);
        return { done: !ips.includes(pod!.ip), seen: ips.join(', ') };
      },
    );

    // The same source port again: while kube-proxy keeps the old entry, every datagram goes to the dead pod.
    // "Live" is judged when the flow answers: the Service's ready endpoints then (the Deployment's
    // replacement for the deleted pod is one of them), never the list taken at deploy time.
    let last: FlowResult | undefined;
    let live: string[] = [];
    const moved = await waitFor(
      `the flow from port ${localPort} answered by a live backend`,
      cluster.settings.timeouts.serviceSync,
      async () => {
        last = await flow(3);
        live = (await readyBackendsNow(cluster, ns, app.name)).map((p) => p.name).filter((name) => name !== pod!.name);
        return { done: live.includes(last.sequence.at(-1) ?? ''), seen: describeFlow(last), value: true };
      },
    ).catch(() => false);
    if (moved) return;
    const why = await conntrackOfFlow(pod!.ip, localPort);
    expect(
      moved,
      because(
        'udp',
        `${pod!.name} (${pod!.ip}) left the endpoints, but the flow from ${last?.local} to ${address()} still gets ${describeFlow(last)} after ${cluster.settings.timeouts.serviceSync} ms (ready backends now: ${live.join(', ') || 'none'}); ${why}`,
      ),
    ).toBe(true);
  });

  /** What the client's node says of the flow: the cause is named only when the entry is seen. */
  async function conntrackOfFlow(deadIP: string, localPort: number): Promise<string> {
    const noAccess = nodeAccessSkipReason(cluster);
    if (noAccess) return `its conntrack entry was not read (${noAccess})`;
    const node = cluster.nodes.find((n) => n.name === client.node)!;
    const listed = await runOnNode(
      cluster,
      node,
      ['conntrack', '-L', '-p', 'udp', '--orig-port-src', String(localPort)],
      {
        allowFailure: true,
      },
    );
    const entry = flowEntry(parseConntrack(listed.stdout), app.clusterIP, localPort);
    if (!entry) return `${node.name} has no conntrack entry for the flow (conntrack -L: ${listed.stderr || 'none'})`;
    const to = `${entry.reply.src}:${entry.reply.sport}`;
    return entry.reply.src === deadIP
      ? `its conntrack entry on ${node.name} still sends it to the deleted pod (${to}): not cleared`
      : `its conntrack entry on ${node.name} sends it to ${to}, which is not a ready backend`;
  }
});

function describeFlow(flow: FlowResult | undefined): string {
  return flow ? flow.sequence.join(' → ') || 'nothing' : 'no answer';
}
