// A run id names everything one run creates (label svc-conformance.io/run-id, and the
// suffix of each namespace), so runs never collide and cleanup finds exactly its own
// objects; each object also carries its creation time (annotation, and the API's own
// creationTimestamp) so `cleanup --older-than` can tell a dead run from a live one.
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { Kube } from '../kube/client.js';

export const RUN_ID_LABEL = 'svc-conformance.io/run-id';
export const CREATED_AT_ANNOTATION = 'svc-conformance.io/created-at';

/** Short enough that `<prefix>-<run id>` stays a valid namespace name. */
const RUN_ID = /^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$/;

export function newRunId(): string {
  return `r${Date.now().toString(36).slice(-5)}${randomBytes(2).toString('hex')}`;
}

/** A run id given by the user (--run-id, SVC_RUN_ID) must fit in namespace names and label values. */
export function checkRunId(runId: string): string {
  if (!RUN_ID.test(runId))
    throw new UsageError(
      `run id "${runId}" must be 1-20 lowercase letters, digits or '-', starting and ending with a letter or digit; pick another --run-id`,
    );
  return runId;
}

/** Namespaces that already carry this run id (by label or name suffix): another run's, alive or left behind. */
export async function namespacesOfRunId(kube: Kube, runId: string): Promise<string[]> {
  const all = (await kube.core.listNamespace()).items;
  return all
    .filter((n) => n.metadata?.labels?.[RUN_ID_LABEL] === runId || n.metadata?.name?.endsWith(`-${runId}`))
    .map((n) => n.metadata!.name!);
}
