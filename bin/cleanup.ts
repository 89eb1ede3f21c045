// svc-conformance cleanup --kubeconfig FILE [--older-than 1h] [--run-id ID]: removes what
// earlier runs left in a cluster (a run killed with SIGKILL, a CI job cancelled hard): every
// namespace and cluster-scoped object labelled svc-conformance.io/run-id, grouped by run.
import { openKubeconfig, reachApi } from '../helpers/cluster/attach.js';
import { UsageError } from '../helpers/errors.js';
import { cleanupLeftovers, findLeftovers } from '../helpers/cluster/cleanup.js';
import { RUN_ID_LABEL } from '../helpers/cluster/run-id.js';

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export async function cleanupCommand(
  kubeconfig: string | undefined,
  context: string | undefined,
  olderThan: string | undefined,
  runId: string | undefined,
): Promise<number> {
  if (!kubeconfig)
    throw new UsageError(
      "cleanup needs the cluster to clean; pass --kubeconfig FILE (a local cluster's is /var/lib/svc-conformance/<name>/kubeconfig)",
    );
  const olderThanMs = olderThan === undefined ? 0 : parseDuration(olderThan);
  const kube = openKubeconfig(kubeconfig, context);
  const server = kube.config.getCurrentCluster()!.server;
  const leftovers = (await reachApi(kube, server, () => findLeftovers(kube, olderThanMs))).filter(
    (l) => !runId || l.runId === runId,
  );
  const scope = [olderThan && `older than ${olderThan}`, runId && `of run ${runId}`].filter(Boolean).join(', ');
  if (leftovers.length === 0) {
    console.log(`nothing to clean up: no objects labelled ${RUN_ID_LABEL}${scope ? ` ${scope}` : ''} on ${server}`);
    return 0;
  }
  for (const l of leftovers) {
    console.log(
      `run ${l.runId} (started ${age(Date.now() - l.createdAt.getTime())} ago): ${l.objects.map((o) => `${o.kind}/${o.name}`).join(', ')}`,
    );
  }
  await cleanupLeftovers(kube, leftovers);
  const count = leftovers.reduce((n, l) => n + l.objects.length, 0);
  console.log(`removed ${count} object(s) of ${leftovers.length} run(s) from ${server}`);
  return 0;
}

/** `90s`, `30m`, `1h`, `2d` → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text);
  if (!m)
    throw new UsageError(`--older-than "${text}" is not a duration; write a number and a unit, e.g. 30m, 1h or 2d`);
  return Number(m[1]) * UNITS[m[2]];
}

function age(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m`;
  return `${(ms / 3_600_000).toFixed(1)}h`;
}
