// Causes a pod wait need not sit out its budget for: the scheduler found no node that tolerates
// the nodes' taints, or the pods' controller was refused by admission or a quota. None clears
// by itself (someone must change the taint, the policy or the quota), so a wait stops at once and
// says which. Transient ones (a node not Ready yet, a namespace whose ServiceAccount is not made
// yet) are left to the wait.
import type * as k8s from '@kubernetes/client-node';

/** Taints nodes carry while they come up or drop out; the node lifecycle controller removes them. */
const PASSING_TAINTS = [
  'node.kubernetes.io/not-ready',
  'node.kubernetes.io/unreachable',
  'node.kubernetes.io/network-unavailable',
  'node.cloudprovider.kubernetes.io/uninitialized',
];

/**
 * The scheduler's reason when no node tolerates the pod, from its PodScheduled condition and the nodes'
 * taints (the message names the taints' keys only in some versions): every node must carry a NoSchedule
 * or NoExecute taint the pod does not tolerate, and none of them a passing one.
 */
export function unschedulableForGood(pod: k8s.V1Pod, nodes: k8s.V1Node[]): string | undefined {
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status !== 'False' || scheduled.reason !== 'Unschedulable') return undefined;
  if (!/untolerated taint/.test(scheduled.message ?? '') || !nodes.length) return undefined;
  const blocking = nodes.map((node) => ({
    node: node.metadata?.name ?? '?',
    taints: (node.spec?.taints ?? []).filter(
      (t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerated(t, pod.spec?.tolerations ?? []),
    ),
  }));
  if (blocking.some((b) => !b.taints.length || b.taints.some((t) => PASSING_TAINTS.includes(t.key)))) return undefined;
  const taints = [
    ...new Set(blocking.flatMap((b) => b.taints.map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`))),
  ];
  return `no node can take pod ${pod.metadata?.name}: ${firstSentence(scheduled.message!)}: untolerated taint ${taints.join(', ')} on ${blocking.map((b) => b.node).join(', ')} (the scheduler's FailedScheduling; a taint does not clear by itself: remove it, or tolerate it with SVC_WORKLOAD_PATCH)`;
}

function tolerated(taint: k8s.V1Taint, tolerations: k8s.V1Toleration[]): boolean {
  return tolerations.some(
    (t) =>
      (!t.effect || t.effect === taint.effect) &&
      (t.operator === 'Exists'
        ? !t.key || t.key === taint.key
        : t.key === taint.key && (t.value ?? '') === (taint.value ?? '')),
  );
}

/** A controller's refusal that will not clear by itself: admission (a policy, a webhook, Pod Security) or a quota. */
export function refusedForGood(conditions: k8s.V1ReplicaSetCondition[]): string | undefined {
  const failure = conditions.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  const message = failure?.message ?? '';
  if (!failure || /serviceaccount|service account/i.test(message)) return undefined;
  const kind = /exceeded quota/i.test(message)
    ? 'a ResourceQuota refuses the pods'
    : /ValidatingAdmissionPolicy|admission webhook|violates PodSecurity|forbidden/i.test(message)
      ? 'admission refuses the pods'
      : undefined;
  return kind && `${kind}: ${failure.reason}: ${message}`;
}

/** "0/2 nodes are available: 2 node(s) had untolerated taint(s)", without the preemption and claims tail. */
function firstSentence(message: string): string {
  return message.split(/\. /)[0].replace(/\.$/, '');
}
