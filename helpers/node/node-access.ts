// Node access on a cluster the tool did not make (--node-access privileged-pod): one
// privileged pod per node (hostNetwork, hostPID) in a namespace of the run's own, labelled
// with the run id so the run's teardown and `cleanup` remove it. The node's root
// filesystem is mounted at /host: node tools (iptables-save, nft, conntrack, ip) are the
// node's own, run with `chroot /host`; svcprobe and reads of /sys run from the pod itself,
// which shares the node's network (entering PID 1's namespaces instead would need ptrace
// rights on the node's init, which some nodes refuse). Asked for explicitly only: it is
// root on every node.
import type * as k8s from '@kubernetes/client-node';
import { apiMessage } from '../cluster/attach.js';
import { clusterFromHandle } from '../cluster/cluster.js';
import { NODE_ROOT } from '../cluster/node-shell.js';
import type { ClusterHandle, ProxyMode } from '../cluster/provider.js';
import { CREATED_AT_ANNOTATION, RUN_ID_LABEL } from '../cluster/run-id.js';
import { UsageError } from '../errors.js';
import { Kube, statusCode } from '../kube/client.js';
import { describePod, isPodReady } from '../kube/pods.js';
import { waitFor } from '../kube/wait.js';
import type { Settings } from '../settings.js';
import { kubeProxyStatus } from './kube-proxy.js';

/** The namespace of a run's node-access pods. Privileged, unlike every other namespace a run makes. */
export const nodeAccessNamespace = (runId: string) => `node-access-${runId}`;

/**
 * Applies --node-access to a handle: `none` drops node access, `privileged-pod` starts the
 * pods and points every node at its pod. Without the flag the handle is left as it is.
 */
export async function applyNodeAccess(
  handle: ClusterHandle,
  runId: string,
  settings: Settings,
): Promise<ClusterHandle> {
  const choice = settings.run.nodeAccess;
  if (choice === 'none') return { ...handle, nodeAccess: 'none' };
  if (choice !== 'privileged-pod') return handle;
  const namespace = nodeAccessNamespace(runId);
  const kube = new Kube(handle.kubeconfig);
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
    const pods = await Promise.all(
      handle.nodes.map((node, i) =>
        startAccessPod(kube, settings, { namespace, runId, nodeName: node.name, name: `node-${i + 1}` }),
      ),
    );
    const nodes = handle.nodes.map((node, i) => ({
      ...node,
      shell: { via: 'privileged-pod' as const, namespace, pod: pods[i] },
    }));
    const withAccess: ClusterHandle = { ...handle, nodeAccess: 'privileged-pod', nodes };
    return {
      ...withAccess,
      capabilities: { ...handle.capabilities, proxyMode: await proxyModeOf(withAccess, runId, settings) },
    };
  } catch (error) {
    if (statusCode(error) === 403) {
      throw new UsageError(
        `--node-access privileged-pod: the cluster refused the node-access pods (${apiMessage(error)}); allow privileged pods in namespace ${namespace} (Pod Security "privileged"), or run without --node-access (node-level checks then skip)`,
      );
    }
    throw error;
  }
}

interface AccessPod {
  namespace: string;
  runId: string;
  nodeName: string;
  name: string;
}

async function startAccessPod(
  kube: Kube,
  settings: Settings,
  { namespace, runId, nodeName, name }: AccessPod,
): Promise<string> {
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
          image: settings.images.client,
          imagePullPolicy: 'IfNotPresent',
          securityContext: { privileged: true },
          volumeMounts: [{ name: 'host', mountPath: NODE_ROOT, readOnly: true }],
        },
      ],
    },
  };
  await kube.apply(pod);
  await waitFor(
    `node-access pod ${namespace}/${name} running on ${nodeName}`,
    settings.timeouts.podsReady,
    async () => {
      const p = await kube.core.readNamespacedPod({ namespace, name });
      return { done: isPodReady(p), seen: describePod(p) };
    },
  );
  return name;
}

/** The proxy mode kube-proxy reports on the first node, or unknown (no kube-proxy, or another proxy). */
async function proxyModeOf(handle: ClusterHandle, runId: string, settings: Settings): Promise<ProxyMode | 'unknown'> {
  if (handle.capabilities.proxyMode !== 'unknown' || !handle.nodes[0]) return handle.capabilities.proxyMode;
  const status = await kubeProxyStatus(clusterFromHandle(handle, runId, settings), handle.nodes[0]).catch(
    () => undefined,
  );
  return status?.mode === 'iptables' || status?.mode === 'nftables' || status?.mode === 'ipvs'
    ? status.mode
    : 'unknown';
}
