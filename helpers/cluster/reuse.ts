// The container providers (kind, k3s) keep a cluster's handle in <state root>/<name>/state.json
// with a fingerprint of what it was made from (config, image, command): a later run reuses
// the cluster only when the fingerprint matches and its API server still answers.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kube } from '../kube/client.js';
import type { ClusterHandle } from './provider.js';

interface ClusterState {
  handle: ClusterHandle;
  fingerprint: string;
}

/** The kept handle of cluster `name` if it was made from the same `fingerprint` and answers. */
export async function reusableHandle(
  stateRoot: string,
  name: string,
  fingerprint: string,
): Promise<ClusterHandle | undefined> {
  const file = join(stateRoot, name, 'state.json');
  let state: ClusterState | undefined;
  try {
    state = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ClusterState) : undefined;
  } catch {
    return undefined; // a state file being written by a cluster coming up: not reusable yet
  }
  if (state?.fingerprint !== fingerprint) return undefined;
  const answers = await new Kube(state.handle.kubeconfig).core.listNode().then(
    () => true,
    () => false,
  );
  return answers ? state.handle : undefined;
}

export function keepHandle(stateRoot: string, name: string, handle: ClusterHandle, fingerprint: string): void {
  writeFileSync(
    join(stateRoot, name, 'state.json'),
    JSON.stringify({ handle, fingerprint } satisfies ClusterState, null, 2),
  );
}
