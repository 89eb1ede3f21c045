// What a pod is doing, as the waits and the diagnosis tell it: Ready or not, and a short
// summary of its phase, waiting reasons and restarts.
import type * as k8s from '@kubernetes/client-node';

export function isPodReady(pod: k8s.V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** "hostnames-abc (Pending, ImagePullBackOff)" — what a pod is doing, for wait messages. */
export function describePod(pod: k8s.V1Pod): string {
  const waiting = pod.status?.containerStatuses?.map((c) => c.state?.waiting?.reason).filter(Boolean);
  const restarts = pod.status?.containerStatuses?.reduce((n, c) => n + c.restartCount, 0) ?? 0;
  const detail = [
    pod.status?.phase,
    isPodReady(pod) ? 'ready' : 'not ready',
    ...(waiting ?? []),
    restarts ? `${restarts} restarts` : '',
  ].filter(Boolean);
  return `${pod.metadata?.name} (${detail.join(', ')})`;
}
