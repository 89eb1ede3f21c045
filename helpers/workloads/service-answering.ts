// Where node commands cannot run (--node-access none), kube-proxy's rules cannot be read, yet
// a spec must not send to a new Service before they are written: it would meet the
// no-endpoints REJECT, or rules from a sync that saw only some of the endpoints. The data path
// decides instead: from a backend pod on each node that has one, requests to the ClusterIP
// until every backend has answered (one, with ClientIP affinity). The requests go through
// busybox nc in the hostnames image (its wget crashes when given a timeout). With a single
// backend, the answers are its own, through the VIP.
import type { Cluster } from '../cluster/cluster.js';
import { execInPod } from '../kube/exec.js';
import { waitFor } from '../kube/wait.js';
import type { BackendPod } from './backends.js';

export interface AnsweringService {
  namespace: string;
  name: string;
  clusterIP: string;
  port: number;
  protocol?: string;
  /** sessionAffinity ClientIP: one client meets one backend, so the first answer is enough. */
  sticky?: boolean;
}

export async function waitForServiceAnswering(
  cluster: Cluster,
  service: AnsweringService,
  backends: BackendPod[],
  container: string,
  budgetMs: number,
): Promise<void> {
  if ((service.protocol ?? 'TCP') !== 'TCP') return; // UDP, SCTP: serve-hostname answers HTTP only
  const want = backends.map((p) => p.name);
  const tries = Array.from({ length: 3 * want.length }, (_, i) => i).join(' ');
  // One line per request: the answer's last line, the pod name (serve-hostname answers it on any path, netexec on /hostname), or nothing.
  const script = `for i in ${tries}; do printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w 1 ${service.clusterIP} ${service.port} | tail -n 1; echo; done`;
  const onePerNode = [...new Map(backends.map((pod) => [pod.node, pod])).values()];
  await Promise.all(
    onePerNode.map((pod) => {
      const seen = new Set<string>();
      return waitFor(
        `every backend of ${service.namespace}/${service.name} answering on its ClusterIP from pod ${pod.name} on ${pod.node} (no node access to read kube-proxy's rules)`,
        budgetMs,
        async () => {
          const r = await execInPod(
            cluster.kube,
            { namespace: service.namespace, name: pod.name, container },
            ['sh', '-c', script],
            { allowFailure: true, timeoutMs: 15_000 },
          );
          for (const line of r.stdout.split('\n')) if (want.includes(line.trim())) seen.add(line.trim());
          const missing = service.sticky && seen.size ? [] : want.filter((name) => !seen.has(name));
          return {
            done: missing.length === 0,
            seen: missing.length ? `no answer yet from ${missing.join(', ')}` : 'all',
          };
        },
      );
    }),
  );
}
