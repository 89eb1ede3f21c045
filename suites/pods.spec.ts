// suites/pods.spec.ts — guide: "Are the Pods working?"
// Proves: each backend answers on podIP:9376 from a client pod and from a node, without restarts;
// on several nodes, same-node and cross-node backends are checked and reported separately.
// A failure usually means: the app itself, or the CNI (cross-node routes) when only same-node backends answer.
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { nodeHttp } from '../helpers/node/node-probe.js';
import { skipWithoutNodeAccess } from '../helpers/node/run-on-node.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import type { BackendPod } from '../helpers/workloads/backends.js';
import { deployHostnames, HOSTNAMES_PORT, type Hostnames } from '../helpers/workloads/hostnames.js';
import { groupByPath, pathVerdict } from '../helpers/workloads/node-paths.js';
import { hostPort } from '../helpers/address.js';

describe('Are the Pods working?', () => {
  const cluster = useCluster();
  const ns = useNamespace('pods');
  useDiagnosis(ns, 'hostnames');
  let app: Hostnames, client: ClientPod;

  beforeAll(async () => {
    [app, client] = await Promise.all([
      deployHostnames(cluster, ns, { programmed: false }),
      startClientPod(cluster, ns, { node: cluster.nodes[0].name }),
    ]);
  });

  /** Asks each pod directly; returns the pods that did not answer their own name. */
  async function silentPods(
    backends: BackendPod[],
    ask: (pod: BackendPod) => Promise<Record<string, number>>,
  ): Promise<Set<string>> {
    const silent = new Set<string>();
    for (const pod of backends) if (!(await ask(pod))[pod.name]) silent.add(pod.name);
    return silent;
  }

  it(`answers on podIP:${HOSTNAMES_PORT} from a client pod, same-node and cross-node`, async () => {
    const backends = await app.backendsNow();
    const groups = groupByPath(backends, client.node);
    const silent = await silentPods(
      backends,
      async (pod) => (await client.http(`http://${hostPort(pod.ip, HOSTNAMES_PORT)}/`)).answers,
    );
    expect(
      [...silent],
      because(
        'pods',
        `${pathVerdict(groups, silent)} (client on ${client.node}; same-node ${groups.sameNode.length}, cross-node ${groups.crossNode.length})`,
      ),
    ).toEqual([]);
  });

  it(`answers on podIP:${HOSTNAMES_PORT} from a node`, async ({ skip }) => {
    skipWithoutNodeAccess(cluster, skip);
    const node = cluster.nodes[0];
    const backends = await app.backendsNow();
    const groups = groupByPath(backends, node.name);
    const silent = await silentPods(
      backends,
      async (pod) => (await nodeHttp(cluster, node, `http://${hostPort(pod.ip, HOSTNAMES_PORT)}/`)).answers,
    );
    expect([...silent], because('pods', `from node ${node.name}: ${pathVerdict(groups, silent)}`)).toEqual([]);
  });

  it('has not restarted any container', async () => {
    const pods = await cluster.kube.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=hostnames' });
    const restarts = pods.items.map(
      (p) => `${p.metadata?.name}: ${p.status?.containerStatuses?.[0]?.restartCount ?? '?'}`,
    );
    expect(
      restarts.filter((r) => !r.endsWith(': 0')),
      because('pods', 'container restarts'),
    ).toEqual([]);
  });
});
