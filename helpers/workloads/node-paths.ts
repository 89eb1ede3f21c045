// Same-node and cross-node backends, seen from a client: on a cluster of several nodes a
// broken CNI route shows as "only same-node backends answer".
import type { BackendPod } from './backends.js';

export interface PathGroups {
  sameNode: BackendPod[];
  crossNode: BackendPod[];
}

export function groupByPath(pods: BackendPod[], clientNode: string): PathGroups {
  return { sameNode: pods.filter((p) => p.node === clientNode), crossNode: pods.filter((p) => p.node !== clientNode) };
}

/** A verdict for a set of backends that did not answer: what that pattern points to. */
export function pathVerdict(groups: PathGroups, failed: Set<string>): string {
  const sameFailed = groups.sameNode.filter((p) => failed.has(p.name));
  const crossFailed = groups.crossNode.filter((p) => failed.has(p.name));
  if (crossFailed.length > 0 && crossFailed.length === groups.crossNode.length && sameFailed.length === 0) {
    return `only same-node backends answer: none of ${crossFailed.map((p) => `${p.name} on ${p.node}`).join(', ')} did (check the pod routes between nodes / the CNI)`;
  }
  // One silent same-node pod is no pattern (it may just be that pod): claim it from two or more.
  if (
    groups.sameNode.length > 1 &&
    sameFailed.length === groups.sameNode.length &&
    crossFailed.length === 0 &&
    groups.crossNode.length > 0
  ) {
    return `only cross-node backends answer: same-node ${sameFailed.map((p) => p.name).join(', ')} did not (check the node's bridge / hairpin and local delivery)`;
  }
  return failed.size ? `backends that did not answer: ${[...failed].join(', ')}` : 'every backend answered';
}
