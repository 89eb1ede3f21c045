// A counter of kube-proxy's /metrics, read from a hostNetwork pod on its node: kube-proxy serves its
// metrics on the node's loopback, which only the node's own network reaches.
import type { Cluster } from '../cluster/cluster.js';
import { execInPod } from '../kube/exec.js';
import { parseProbeOutput, type Tally } from '../parse/svcprobe.js';
import type { ClientPod } from './client-pod.js';

/** kube-proxy's counter `metric` on the client's node (its metrics port on loopback), from a hostNetwork pod there. */
export async function kubeProxyCounter(
  cluster: Cluster,
  hostClient: ClientPod,
  metricsUrl: string,
  metric: string,
): Promise<{ value?: number; detail: string }> {
  const url = `${metricsUrl}/metrics`;
  const args = ['http', url, `--lines-matching=^${metric}( |$)`, `--timeout=${cluster.settings.timeouts.probe}ms`];
  const result = await execInPod(cluster.kube, { namespace: hostClient.namespace, name: hostClient.name }, [
    '/svcprobe',
    ...args,
  ]);
  const tally = parseProbeOutput<Tally>(result.stdout, args.join(' '), `in pod ${hostClient.name}`, result.stderr);
  const [line] = Object.keys(tally.answers);
  if (!tally.ok) return { detail: `${url}: ${JSON.stringify(tally.errors)} ${tally.sampleError ?? ''}` };
  const value = Number(line?.split(/\s+/)[1]);
  return Number.isFinite(value) && line
    ? { value, detail: `${url}: ${line}` }
    : { detail: `${url}: no ${metric} line (${line || 'empty'})` };
}
