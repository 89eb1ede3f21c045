// A TCP connection through a ClusterIP left in CLOSE_WAIT on purpose (agnhost net's
// nat-closewait runners, as upstream's test uses them): the server half-closes (FIN) and waits, the
// client reads the FIN and keeps its end open. Its entry on the client's node then carries the
// node's CLOSE_WAIT timeout, the one kube-proxy sets.
import type * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import type { NodeInfo } from '../cluster/provider.js';
import { waitFor } from '../kube/wait.js';
import { runOnNode } from '../node/run-on-node.js';
import { parseConntrack, type ConntrackEntry } from '../parse/conntrack.js';
import { runLabels } from './labels.js';
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from './security.js';

/** The server's port (upstream's choice): nothing else in the namespace uses it. */
const CLOSE_WAIT_PORT = 11302;
/** How long both ends hold the connection once half-closed: longer than any check reads it. */
const HOLD_SECONDS = 600;

export interface CloseWaitConnection {
  clusterIP: string;
  /** The conntrack entry on the client's node, in CLOSE_WAIT, and its line as conntrack -L prints it. */
  entry: ConntrackEntry;
  line: string;
}

function netPod(cluster: Cluster, namespace: string, name: string, node: string, runner: string, options: object) {
  const pod: k8s.V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: runLabels(cluster.runId, { app: name }) },
    spec: {
      nodeName: node,
      // The client retries until the ClusterIP answers (kube-proxy may not have programmed it yet).
      restartPolicy: 'OnFailure',
      terminationGracePeriodSeconds: 1,
      securityContext: RESTRICTED_POD,
      containers: [
        {
          name: 'net',
          image: cluster.settings.images.agnhost,
          imagePullPolicy: 'IfNotPresent',
          securityContext: RESTRICTED_CONTAINER,
          args: ['net', '--runner', runner, '--options', JSON.stringify(options)],
        },
      ],
    },
  };
  return pod;
}

/** Server on `serverNode` behind Service `close-wait`, client on `clientNode`; waits for the CLOSE_WAIT entry. */
export async function leaveInCloseWait(
  cluster: Cluster,
  namespace: string,
  clientNode: NodeInfo,
  serverNode: string,
): Promise<CloseWaitConnection> {
  const server = netPod(cluster, namespace, 'close-wait-server', serverNode, 'nat-closewait-server', {
    LocalAddr: `:${CLOSE_WAIT_PORT}`,
    PostFinTimeoutSeconds: HOLD_SECONDS,
  });
  const service: k8s.V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'close-wait', namespace, labels: runLabels(cluster.runId) },
    spec: {
      selector: { app: 'close-wait-server' },
      ports: [{ port: CLOSE_WAIT_PORT, targetPort: CLOSE_WAIT_PORT, protocol: 'TCP' }],
    },
  };
  await cluster.kube.apply(server);
  const [applied] = (await cluster.kube.apply(service)) as [k8s.V1Service];
  const clusterIP = applied.spec!.clusterIP!;
  await cluster.kube.apply(
    netPod(cluster, namespace, 'close-wait-client', clientNode.name, 'nat-closewait-client', {
      RemoteAddr: `${clusterIP}:${CLOSE_WAIT_PORT}`,
      PostFinTimeoutSeconds: HOLD_SECONDS,
      TimeoutSeconds: 0,
      LeakConnection: true,
    }),
  );
  const command = ['conntrack', '-L', '-p', 'tcp', '-d', clusterIP, '--dport', String(CLOSE_WAIT_PORT)];
  return waitFor(
    `a connection to ${clusterIP}:${CLOSE_WAIT_PORT} in CLOSE_WAIT in ${clientNode.name}'s conntrack table`,
    cluster.settings.timeouts.podsReady,
    async () => {
      const listed = await runOnNode(cluster, clientNode, command, { allowFailure: true });
      const line = listed.stdout.split('\n').find((l) => /\sCLOSE_WAIT\s/.test(l));
      const seen = listed.stdout.trim() || `no entry (${listed.stderr.trim() || 'conntrack -L printed nothing'})`;
      return { done: !!line, seen, value: line && { clusterIP, line, entry: parseConntrack(line)[0] } };
    },
  ) as Promise<CloseWaitConnection>;
}
