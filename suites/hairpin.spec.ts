// suites/hairpin.spec.ts — guide: "Edge case: A Pod fails to reach itself via the Service IP"
// Proves: the only backend of a Service reaches itself through the ClusterIP; on a bridge CNI its
// bridge port has hairpin_mode 1 (or the bridge is promiscuous), and the setting in force is reported.
// A failure usually means: hairpin mode off on the pod's bridge port (CNI bridge hairpinMode false).
import type * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { execInPod } from '../helpers/kube/exec.js';
import { describeHairpin, podBridgePort } from '../helpers/node/bridge-port.js';
import { skipWithoutNodeAccess } from '../helpers/node/run-on-node.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import type { Tally } from '../helpers/workloads/client-pod.js';
import { deployHostnames, type Hostnames } from '../helpers/workloads/hostnames.js';
import { RESTRICTED_CONTAINER } from '../helpers/workloads/security.js';
import { hostPort } from '../helpers/address.js';

/** A sidecar with the probe, so the pod can call its own Service from inside itself. */
const probeSidecar = (image: string): k8s.V1Container => ({
  name: 'probe',
  image,
  imagePullPolicy: 'IfNotPresent',
  securityContext: RESTRICTED_CONTAINER,
});

describe('Edge case: A Pod fails to reach itself via the Service IP', () => {
  const cluster = useCluster();
  const ns = useNamespace('hairpin');
  useDiagnosis(ns, 'hostnames');
  let app: Hostnames;
  /** The one backend as it is now, and a command in its probe sidecar. */
  const backend = async () => (await app.backendsNow())[0];
  const inPod = async (command: string[]) =>
    execInPod(cluster.kube, { namespace: ns, name: (await backend()).name, container: 'probe' }, command);

  beforeAll(async () => {
    app = await deployHostnames(cluster, ns, {
      replicas: 1,
      tweak: {
        deployment: (d) => d.spec!.template.spec!.containers.push(probeSidecar(cluster.settings.images.client)),
      },
    });
  });

  it('reaches itself through its own ClusterIP', async () => {
    const pod = await backend();
    const tally = JSON.parse(
      (await inPod(['/svcprobe', 'http', `http://${hostPort(app.clusterIP, app.port)}/`, '--count=5'])).stdout,
    ) as Tally;
    expect(
      tally.answers,
      because(
        'hairpin',
        `pod ${pod.name} → its own Service ${hostPort(app.clusterIP, app.port)}: ${JSON.stringify(tally.errors ?? {})} ${tally.sampleError ?? ''}`,
      ),
    ).toEqual({
      [pod.name]: 5,
    });
  });

  it("has hairpin mode on the pod's bridge port (or a promiscuous bridge)", async ({ annotate, skip }) => {
    skipWithoutNodeAccess(cluster, skip);
    const pod = await backend();
    const node = cluster.nodes.find((n) => n.name === pod.node)!;
    const peerIndex = Number((await inPod(['cat', '/sys/class/net/eth0/iflink'])).stdout);
    const port = await podBridgePort(cluster, node, peerIndex);
    await annotate(`hairpin in force: ${describeHairpin(port)}`);
    if (!port.bridge) skip(`the pod's link is not on a bridge (${describeHairpin(port)})`);
    expect(port.hairpinMode || port.bridgePromiscuous, because('hairpin', describeHairpin(port))).toBe(true);
  });
});
