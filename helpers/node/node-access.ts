// Node access on a cluster the tool did not make (--node-access privileged-pod): one
// privileged pod per node (hostNetwork, hostPID) in a namespace of the run's own, labelled
// with the run id so the run's teardown and `cleanup` remove it. The node's root
// filesystem is mounted at /host: node tools (iptables-save, nft, conntrack, ip) are the
// node's own, run with `chroot /host`; svcprobe and reads of /sys run from the pod itself,
// which shares the node's network (entering PID 1's namespaces instead would need ptrace
// rights on the node's init, which some nodes refuse). Asked for explicitly only: it is
// root on every node.
import type * as k8s from '@kubernetes/client-node';
import { images, timeouts } from '../config.js';
import { UsageError } from '../errors.js';
import { apiMessage } from '../cluster/attach.js';
import { statusCode, type Kube } from '../kube/client.js';
import { waitFor } from '../kube/wait.js';
import type { ClusterHandle, NodeAccess, ProxyMode } from '../cluster/provider.js';
import { CREATED_AT_ANNOTATION, RUN_ID_LABEL } from '../suite/run-id.js';
import { describePod, isPodReady } from '../workloads/hostnames.js';
import { kubeProxyStatus } from './kube-proxy.js';
import { NODE_ROOT } from './run-on-node.js';

export const NODE_ACCESS_CHOICES = ['privileged-pod', 'none'] as const;
export type NodeAccessChoice = (typeof NODE_ACCESS_CHOICES)[number];

/** The namespace of a run's node-access pods. Privileged, unlike every other namespace a run makes. */
export const nodeAccessNamespace = (runId: string) => `node-access-${runId}`;

/** --node-access as given (SVC_NODE_ACCESS), or undefined: the provider's own default. */
export function nodeAccessChoice(env = process.env): NodeAccessChoice | undefined {
  const asked = env.SVC_NODE_ACCESS;
  if (!asked) return undefined;
  if (!(NODE_ACCESS_CHOICES as readonly string[]).includes(asked)) {
    throw new UsageError(`unknown --node-access "${asked}"; choose privileged-pod (one privileged pod per node, for the node-level checks) or none`);
  }
  return asked as NodeAccessChoice;
}

/**
 * Applies --node-access to a handle: `none` drops node access, `privileged-pod` starts the
 * pods and points every node at its pod. Without the flag the handle is left as it is.
 */
export async function applyNodeAccess(handle: ClusterHandle, kube: Kube, runId: string, choice = nodeAccessChoice()): Promise<ClusterHandle> {
  if (choice === 'none') return { ...handle, nodeAccess: 'none' };
  if (choice !== 'privileged-pod') return handle;
  const namespace = nodeAccessNamespace(runId);
  try {
    await kube.core.createNamespace({
      body: {
        metadata: {
          name: namespace,
          labels: { [RUN_ID_LABEL]: runId, 'pod-security.kubernetes.io/enforce': 'privileged' },
          annotations: { [CREATED_AT_ANNOTATION]: new Date().toISOString() },
        },
      },
    });
    const pods = await Promise.all(handle.nodes.map((node, i) => startAccessPod(kube, namespace, runId, node.name, `node-${i + 1}`)));
    const nodes = handle.nodes.map((node, i) => ({ ...node, target: `${namespace}/${pods[i]}` }));
    const withAccess: ClusterHandle = { ...handle, nodeAccess: 'privileged-pod' as NodeAccess, nodes };
    return { ...withAccess, capabilities: { ...handle.capabilities, proxyMode: await proxyModeOf(withAccess) } };
  } catch (error) {
    if (statusCode(error) === 403) {
      throw new UsageError(`--node-access privileged-pod: the cluster refused the node-access pods (${apiMessage(error)}); allow privileged pods in namespace ${namespace} (Pod Security "privileged"), or run without --node-access (node-level checks then skip)`);
    }
    throw error;
  }
}

async function startAccessPod(kube: Kube, namespace: string, runId: string, nodeName: string, name: string): Promise<string> {
  const pod: k8s.V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { [RUN_ID_LABEL]: runId, role: 'node-access' } },
    spec: {
      nodeName,
      hostNetwork: true,
      hostPID: true,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 0,
      tolerations: [{ operator: 'Exists' }],
      volumes: [{ name: 'host', hostPath: { path: '/' } }],
      containers: [
        {
          name: 'node',
          image: images.client,
          imagePullPolicy: 'IfNotPresent',
          securityContext: { privileged: true },
          volumeMounts: [{ name: 'host', mountPath: NODE_ROOT, readOnly: true }],
        },
      ],
    },
  };
  await kube.apply(pod);
  await waitFor(`node-access pod ${namespace}/${name} running on ${nodeName}`, timeouts.podsReady, async () => {
    const p = await kube.core.readNamespacedPod({ namespace, name });
    return { done: isPodReady(p), seen: describePod(p) };
  });
  return name;
}

/** The proxy mode kube-proxy reports on the first node, or unknown (no kube-proxy, or another proxy). */
async function proxyModeOf(handle: ClusterHandle): Promise<ProxyMode | 'unknown'> {
  if (handle.capabilities.proxyMode !== 'unknown' || !handle.nodes[0]) return handle.capabilities.proxyMode;
  const status = await kubeProxyStatus(handle, handle.nodes[0]).catch(() => undefined);
  return status?.mode === 'iptables' || status?.mode === 'nftables' || status?.mode === 'ipvs' ? status.mode : 'unknown';
}
