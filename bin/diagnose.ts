// svc-conformance diagnose NAMESPACE/SERVICE --kubeconfig FILE: the guide's checklist on
// a user's Service, from one throwaway client pod that is deleted afterwards.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attachByKubeconfig } from '../helpers/cluster/attach.js';
import { formatChecklist, runChecklist } from '../helpers/diagnose/checklist.js';
import { collectEvidence } from '../helpers/diagnose/evidence.js';
import { evidenceMarkdown } from '../helpers/diagnose/report.js';
import { cleanupRun } from '../helpers/cluster/cleanup.js';
import { clusterFromHandle } from '../helpers/cluster/cluster.js';
import { newRunId } from '../helpers/cluster/run-id.js';
import { UsageError } from '../helpers/errors.js';
import { isNotFound } from '../helpers/kube/client.js';
import type { Settings } from '../helpers/settings.js';
import { startClientPod } from '../helpers/workloads/client-pod.js';

/** The guide on a user's Service: exit 0 healthy, 1 a problem found, 2 could not check. */
export async function diagnoseService(target: string | undefined, settings: Settings): Promise<number> {
  const { kubeconfig, context } = settings.run;
  const [namespace, service, extra] = (target ?? '').split('/');
  if (!namespace || !service || extra !== undefined)
    throw new UsageError(
      'diagnose needs NAMESPACE/SERVICE; e.g. svc-conformance diagnose default/hostnames --kubeconfig ~/.kube/config',
    );
  if (!kubeconfig)
    throw new UsageError(
      'diagnose needs a cluster; pass --kubeconfig FILE (a kubeconfig is never picked up implicitly)',
    );
  const handle = await attachByKubeconfig(kubeconfig, context);
  const runId = settings.run.runId ?? newRunId();
  const cluster = clusterFromHandle(handle, runId, settings);
  const exists = await cluster.kube.core.readNamespacedService({ namespace, name: service }).then(
    () => true,
    (error) => {
      if (isNotFound(error)) return false;
      throw error;
    },
  );
  if (!exists)
    throw new UsageError(
      `Service ${namespace}/${service} does not exist; check the name and namespace (kubectl get svc -n ${namespace})`,
    );
  try {
    // Ours, not theirs: the client and the path matrix's probe pods live in a throwaway namespace.
    const own = await cluster.namespace('diagnose');
    const ev = await collectEvidence(cluster, namespace, service, { probeNamespace: own });
    const client = await startClientPod(cluster, own);
    const { items, verdict, healthy } = await runChecklist(cluster, ev, client);
    console.log(`diagnose ${namespace}/${service} on ${handle.provider} cluster ${handle.name}\n`);
    console.log(formatChecklist(items, verdict, healthy));
    mkdirSync(join(settings.resultsDir, 'diagnostics'), { recursive: true });
    writeFileSync(
      join(settings.resultsDir, 'diagnostics', `diagnose-${namespace}-${service}.md`),
      evidenceMarkdown(`diagnose ${namespace}/${service}`, ev, verdict),
    );
    return healthy ? 0 : 1;
  } finally {
    await cleanupRun(handle, runId);
  }
}
