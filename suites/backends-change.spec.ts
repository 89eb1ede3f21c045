// suites/backends-change.spec.ts — beyond the guide: backends that change
// Proves: a Service answers from exactly its ready backends while they change: scaled 0 → 1 → 2 → 1 → 0 (connections
// refused at 0); one pod deleted, over TCP and over UDP (its replacement answers, the deleted pod never does); and
// of two NodePort Services on one selector, both reach every backend from one of them by ClusterIP and every node's
// NodePort, and deleting one leaves the other doing so while the deleted one's ClusterIP goes silent.
// A failure usually means: kube-proxy does not follow EndpointSlice changes (a rule left for a pod that is gone, none
// for a new one), or removing one Service's rules took another's with them.
// The sequence and the deletion run at once, on two Deployments: each waits mostly on pod starts and kube-proxy syncs.
import type * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { section } from '../helpers/diagnose/sections.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { answered } from '../helpers/workloads/answered.js';
import type { BackendPod } from '../helpers/workloads/backends.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import { waitUntilSilent } from '../helpers/workloads/client-waits.js';
import {
  declareUdpPort,
  deployHostnames,
  netexecArgs,
  netexecTcpAndUdpArgs,
  type Hostnames,
} from '../helpers/workloads/hostnames.js';
import { describeDistribution, roundRobin, roundRobinWith } from '../helpers/workloads/round-robin.js';
import { applyServiceOver } from '../helpers/workloads/service-over.js';
import { deleteBackend, scaleBackends } from '../helpers/workloads/scale.js';
import { hostPort } from '../helpers/address.js';
import { everyBackendProblems, type Destination } from '../helpers/workloads/every-backend.js';
import { endpointVantage } from '../helpers/workloads/vantage.js';

const changing = section('Beyond the guide: backends that change', {
  next: "compare kube-proxy's rules for the Service on each node with its EndpointSlices now (a pod added, scaled away or deleted must enter or leave them within a sync) and read kube-proxy's log for failed syncs",
  // Rules that still send to an address no ready endpoint has, while kube-proxy runs: it did not follow the change.
  verdict: (evidence) => {
    const ready = evidence.slices.filter((e) => e.ready).map((e) => e.address);
    if (evidence.nodes.some((n) => n.kubeProxy && !n.kubeProxy.running)) return undefined;
    for (const node of evidence.nodes) {
      const stale = (node.programmed ?? []).filter((a) => !ready.includes(a));
      if (stale.length)
        return `kube-proxy on ${node.node} still sends ${evidence.namespace}/${evidence.service} to ${stale.join(', ')}, which no ready endpoint has (a pod scaled away or deleted): it did not follow the EndpointSlice change`;
    }
    return undefined;
  },
});

/** The Conformance sequence ("should serve a basic endpoint from pods"), as replica counts. */
const SEQUENCE = [0, 1, 2, 1, 0];
/** The Deployment whose pods are deleted, its Services over TCP and over UDP, and the twin Service deleted after. */
const CHURN = 'churn';
const CHURN_UDP = 'churn-udp';
const TWIN = 'churn-twin';
const CHURN_REPLICAS = 2;

const names = (pods: BackendPod[]) => pods.map((p) => p.name).sort();
/** What kube-proxy had not done when the wait for its rules ended, as the tail of a message. */
const lagging = (unprogrammed: string | undefined) => (unprogrammed ? `; kube-proxy lagged: ${unprogrammed}` : '');
/** A node whose rules did not follow the change fails the check even where the client's node did: one more entry. */
const lagMark = (unprogrammed: string | undefined) => (unprogrammed ? ['(kube-proxy lagged)'] : []);
const urlOf = (s: Addressed) => `http://${hostPort(s.clusterIP, s.port)}/hostname`;
const asNodePort = (s: k8s.V1Service) => void (s.spec!.type = 'NodePort');

/** A Service with the address its checks send to. */
interface Addressed {
  clusterIP: string;
  port: number;
  service: k8s.V1Service;
}
const addressed = (service: k8s.V1Service): Addressed => ({
  clusterIP: service.spec!.clusterIP!,
  port: service.spec!.ports![0].port,
  service,
});

describe(changing.title, () => {
  const cluster = useCluster();
  const ns = useNamespace('backends-change');
  // Not hostnames: at 0 replicas on purpose, the guide's tree would blame every failure on its missing endpoints.
  useDiagnosis(ns, CHURN, CHURN_UDP);
  let app: Hostnames, churn: Hostnames, churnUdp: Addressed, client: ClientPod;
  const churnServices = () => [churn.service, churnUdp.service];
  const overTcp = (service: Addressed, pods: BackendPod[]) => roundRobin(client, urlOf(service), names(pods));
  /** A Service's ClusterIP and every node's NodePort, as a failure names them. */
  const destinationsOf = (service: k8s.V1Service, name: string): Destination[] => {
    const { port, nodePort } = service.spec!.ports![0];
    return [
      { what: `the ClusterIP of ${name}`, address: hostPort(service.spec!.clusterIP!, port) },
      ...cluster.nodes.map((n) => ({
        what: `the NodePort of ${name} on ${n.name}`,
        address: hostPort(n.internalIP, nodePort!),
      })),
    ];
  };
  const overUdp = (pods: BackendPod[]) => {
    const address = hostPort(churnUdp.clusterIP, churnUdp.port);
    return roundRobinWith(address, names(pods), (count) => client.udp(address, { count }));
  };

  beforeAll(async () => {
    [app, churn, client] = await Promise.all([
      // No pod until the sequence scales it.
      deployHostnames(cluster, ns, { replicas: 0, args: netexecArgs() }),
      // netexec answers GET /hostname over TCP and "hostname" over UDP on the same port.
      deployHostnames(cluster, ns, {
        name: CHURN,
        replicas: CHURN_REPLICAS,
        args: netexecTcpAndUdpArgs(),
        tweak: { deployment: declareUdpPort, service: asNodePort },
      }),
      startClientPod(cluster, ns, { node: cluster.nodes[0].name }),
    ]);
    churnUdp = addressed(
      await applyServiceOver(cluster, ns, CHURN_UDP, churn.service.spec!.selector!, (s) => {
        s.spec!.ports![0].protocol = 'UDP';
      }),
    );
  });

  it.concurrent(
    'answers from exactly its ready backends as they go 0 → 1 → 2 → 1 → 0, and refuses connections at 0',
    async () => {
      for (const replicas of SEQUENCE) {
        const { pods, unprogrammed } = await scaleBackends(cluster, app, replicas, [app.service]);
        const seen = [
          ...(pods.length
            ? answered(await overTcp(app, pods))
            : [(await client.dialUntil(hostPort(app.clusterIP, app.port), 'refused')).outcome]),
          ...lagMark(unprogrammed),
        ];
        expect(
          seen,
          because(
            changing,
            `${urlOf(app)} from ${client.node} at ${replicas} replicas (ready: ${names(pods).join(', ') || 'none'}): got ${seen.join(', ')}${lagging(unprogrammed)}`,
          ),
        ).toEqual(pods.length ? names(pods) : ['refused']);
      }
    },
  );

  it.concurrent(
    'after a backend pod is deleted, exactly the remaining backends and its replacement answer over TCP and over UDP, never the deleted pod',
    async () => {
      const { pods: before } = await scaleBackends(cluster, churn, CHURN_REPLICAS, churnServices());
      const [tcpBefore, udpBefore] = [await overTcp(churn, before), await overUdp(before)];
      expect(
        [answered(tcpBefore), answered(udpBefore)],
        because(
          changing,
          `before the deletion: over TCP ${describeDistribution(tcpBefore)}; over UDP ${describeDistribution(udpBefore)}`,
        ),
      ).toEqual([names(before), names(before)]);
      // One deletion for both protocols: each Service must drop the pod and take its replacement.
      const gone = before[0];
      const { pods: after, unprogrammed } = await deleteBackend(cluster, churn, gone, churnServices());
      const deleted = `after ${gone.name} (${gone.ip}) was deleted, ready now ${names(after).join(', ')}`;
      const tcp = await overTcp(churn, after);
      expect(
        [...answered(tcp), ...lagMark(unprogrammed)],
        because(changing, `${urlOf(churn)} ${deleted}: ${describeDistribution(tcp)}${lagging(unprogrammed)}`),
      ).toEqual(names(after));
      const udp = await overUdp(after);
      expect(
        [...answered(udp), ...lagMark(unprogrammed)],
        because(changing, `${CHURN_UDP} over UDP ${deleted}: ${describeDistribution(udp)}${lagging(unprogrammed)}`),
      ).toEqual(names(after));
    },
  );

  it("of two NodePort Services on one selector, both reach every backend from one of them by ClusterIP and every node's NodePort; deleting one leaves the other doing so, and the deleted one's ClusterIP silent", async () => {
    const twin = addressed(await applyServiceOver(cluster, ns, TWIN, churn.service.spec!.selector!, asNodePort));
    const { pods, unprogrammed } = await scaleBackends(cluster, churn, CHURN_REPLICAS, [churn.service, twin.service]);
    // Dialled from one of the backends, as upstream does: its own NodePort and ClusterIP lead back to it too.
    const fromEndpoint = [endpointVantage(client, pods[0])];
    const both = await everyBackendProblems(
      fromEndpoint,
      'TCP',
      [...destinationsOf(churn.service, CHURN), ...destinationsOf(twin.service, TWIN)],
      pods,
    );
    expect(
      [...both, ...lagMark(unprogrammed)],
      because(changing, `before ${TWIN} was deleted: ${both.join('\n')}${lagging(unprogrammed)}`),
    ).toEqual([]);
    await cluster.kube.core.deleteNamespacedService({ namespace: ns, name: TWIN });
    const silent = await waitUntilSilent(cluster, client, urlOf(twin));
    expect(
      silent.answers,
      because(
        changing,
        `${urlOf(twin)} (${ns}/${TWIN}, deleted) still answered ${silent.ok}/${silent.count} after ${cluster.settings.timeouts.serviceSync} ms: its rules outlived it`,
      ),
    ).toEqual({});
    const remaining = await everyBackendProblems(fromEndpoint, 'TCP', destinationsOf(churn.service, CHURN), pods);
    expect(remaining, because(changing, `after ${TWIN} was deleted: ${remaining.join('\n')}`)).toEqual([]);
  });
});
