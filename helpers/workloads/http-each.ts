// Several URLs asked from one client pod in one exec: an exec costs the API server, the kubelet
// and the runtime far more than the requests in it, so a check that looks at ten Service ports
// pays for one exec, not ten. Each URL gets its own svcprobe (ClientPod.http's program), all at
// once, or one after the other where the URLs share an affinity record and must not race for it.
import type { Cluster } from '../cluster/cluster.js';
import { execInPod } from '../kube/exec.js';
import { parseProbeOutput, type Tally } from '../parse/svcprobe.js';
import type { ClientPod } from './client-pod.js';

export interface HttpEachOptions {
  /** Requests per URL, each on a new connection, one after the other. */
  count: number;
  /** The URLs in turn instead of all at once (default false). */
  oneAtATime?: boolean;
}

/** `count` requests to each URL from the client pod; the tallies in the order of `urls`. */
export async function httpEach(
  cluster: Cluster,
  client: ClientPod,
  urls: string[],
  options: HttpEachOptions,
): Promise<Tally[]> {
  const probe = `/svcprobe http "$u" --count=${options.count} --timeout=${cluster.settings.timeouts.probe}ms`;
  const script = options.oneAtATime ? `for u in "$@"; do ${probe}; done` : `for u in "$@"; do ${probe} & done; wait`;
  const result = await execInPod(
    cluster.kube,
    { namespace: client.namespace, name: client.name },
    ['sh', '-c', script, 'sh', ...urls],
    { timeoutMs: 120_000 },
  );
  const where = `in pod ${client.name} (ns ${client.namespace})`;
  // One JSON line per URL, each written at once, so lines run side by side do not mix; matched by target.
  const tallies = result.stdout
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => parseProbeOutput<Tally>(line, `http ${urls.join(' ')}`, where, result.stderr));
  return urls.map((url) => {
    const tally = tallies.find((t) => t.target === url);
    if (!tally)
      throw new Error(`\`svcprobe http ${url}\` ${where} printed nothing (stderr: ${result.stderr.trim() || 'none'})`);
    return tally;
  });
}
