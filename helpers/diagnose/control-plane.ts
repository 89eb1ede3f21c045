// The control plane's part in a Service: is the API server serving, did kube-controller-
// manager's controllers do their work in the namespace (its ServiceAccount, the Deployment's
// ReplicaSet and pods, the Service's EndpointSlices), did the scheduler place the pods, did
// admission refuse them. Read from what those parts leave behind (objects, events, leader
// leases where the cluster elects leaders), so it works on any cluster, including ones whose
// control plane this project cannot see.
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import type { Kube } from '../kube/client.js';
import { apiMessage } from '../cluster/attach.js';

export interface LeaseState {
  component: string;
  holder?: string;
  /** Seconds since the holder last renewed it. */
  renewedSecondsAgo?: number;
  durationSeconds?: number;
}

export interface ControlPlaneEvidence {
  /** The API server answered the diagnosis; when it did not, why. */
  api: { ok: boolean; detail: string };
  /** Leader leases of the scheduler and kube-controller-manager; empty where the cluster elects no leaders. */
  leases: LeaseState[];
  namespace?: { name: string; ageSeconds: number; hasDefaultServiceAccount: boolean };
  /** Pods of the namespace no node was assigned to, with their scheduling events. */
  unscheduled: { pod: string; ageSeconds: number; events: string[] }[];
  /** Deployments of the namespace and what the Deployment and ReplicaSet controllers made of them. */
  deployments: { name: string; ageSeconds: number; replicas: number; replicaSets: number; pods: number }[];
  /** Controllers' FailedCreate events (a ReplicaSet's pods refused by admission, a missing ServiceAccount). */
  failedCreates: string[];
}

/** Objects younger than this may simply not be done yet: nothing is blamed for them. */
export const SETTLE_SECONDS = 10;

const age = (time: Date | undefined, now: number) => (time ? Math.round((now - new Date(time).getTime()) / 1000) : 0);

/**
 * `refusals`: messages of creates the caller saw refused (a spec's setup errors). A namespace younger than
 * SETTLE_SECONDS without its ServiceAccount is read again once it is that old: the controller may just be behind.
 */
export async function collectControlPlane(
  kube: Kube,
  namespace: string,
  refusals: string[] = [],
): Promise<ControlPlaneEvidence> {
  const cp: ControlPlaneEvidence = {
    api: { ok: true, detail: '' },
    leases: [],
    unscheduled: [],
    deployments: [],
    failedCreates: [],
  };
  const now = Date.now();
  let ns: k8s.V1Namespace;
  try {
    ns = await kube.core.readNamespace({ name: namespace });
  } catch (error) {
    cp.api = { ok: false, detail: apiMessage(error) };
    return cp;
  }
  const hasDefault = async () =>
    (await kube.core.listNamespacedServiceAccount({ namespace })).items.some((a) => a.metadata?.name === 'default');
  let nsAge = age(ns.metadata?.creationTimestamp, now);
  let hasDefaultServiceAccount = await hasDefault();
  if (!hasDefaultServiceAccount && nsAge < SETTLE_SECONDS) {
    await sleep((SETTLE_SECONDS - nsAge) * 1000);
    nsAge = SETTLE_SECONDS;
    hasDefaultServiceAccount = await hasDefault();
  }
  cp.namespace = { name: namespace, ageSeconds: nsAge, hasDefaultServiceAccount };

  const coordination = kube.config.makeApiClient(k8s.CoordinationV1Api);
  for (const component of ['kube-scheduler', 'kube-controller-manager']) {
    try {
      const lease = await coordination.readNamespacedLease({ namespace: 'kube-system', name: component });
      cp.leases.push({
        component,
        holder: lease.spec?.holderIdentity,
        renewedSecondsAgo: lease.spec?.renewTime ? age(lease.spec.renewTime, now) : undefined,
        durationSeconds: lease.spec?.leaseDurationSeconds,
      });
    } catch {
      // no leader election on this cluster (or no right to read leases): the symptoms still tell
    }
  }

  const [pods, events, deployments, replicaSets] = await Promise.all([
    kube.core.listNamespacedPod({ namespace }),
    kube.core.listNamespacedEvent({ namespace }),
    kube.apps.listNamespacedDeployment({ namespace }),
    kube.apps.listNamespacedReplicaSet({ namespace }),
  ]);
  const eventsOf = (kind: string, name: string) =>
    events.items.filter((e) => e.involvedObject.kind === kind && e.involvedObject.name === name);
  for (const pod of pods.items) {
    if (pod.spec?.nodeName || pod.status?.phase !== 'Pending') continue;
    const name = pod.metadata!.name!;
    cp.unscheduled.push({
      pod: name,
      ageSeconds: age(pod.metadata?.creationTimestamp, now),
      events: eventsOf('Pod', name)
        .filter((e) => e.reason === 'FailedScheduling')
        .map((e) => `${e.reason}: ${e.message}`),
    });
  }
  for (const d of deployments.items) {
    const uid = d.metadata?.uid;
    const sets = replicaSets.items.filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.uid === uid));
    const setUids = new Set(sets.map((rs) => rs.metadata?.uid));
    cp.deployments.push({
      name: d.metadata!.name!,
      ageSeconds: age(d.metadata?.creationTimestamp, now),
      replicas: d.spec?.replicas ?? 1,
      replicaSets: sets.length,
      pods: pods.items.filter((p) => p.metadata?.ownerReferences?.some((o) => setUids.has(o.uid))).length,
    });
  }
  cp.failedCreates = [
    ...refusals.filter((m) => refusal(m)),
    ...events.items
      .filter((e) => e.reason === 'FailedCreate')
      .map((e) => `${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message}`)
      .slice(-5),
  ];
  return cp;
}

/** A lease whose holder stopped renewing it: the component is not running (or cannot reach the API server). */
function staleLease(cp: ControlPlaneEvidence, component: string): LeaseState | undefined {
  const lease = cp.leases.find((l) => l.component === component);
  if (!lease || lease.renewedSecondsAgo === undefined) return undefined;
  return lease.renewedSecondsAgo > 2 * (lease.durationSeconds ?? 15) ? lease : undefined;
}

const leaseNote = (cp: ControlPlaneEvidence, component: string) => {
  const lease = cp.leases.find((l) => l.component === component);
  if (!lease) return '';
  const stale = staleLease(cp, component);
  return stale
    ? `; its leader lease was last renewed ${stale.renewedSecondsAgo} s ago by ${stale.holder ?? 'nobody'}`
    : `; its leader lease is held by ${lease.holder ?? 'nobody'}, renewed ${lease.renewedSecondsAgo ?? '?'} s ago`;
};

/** What a refused create says, in one line: the admission plugin or policy, or the missing ServiceAccount. */
export function refusal(message: string): { part: string; reason: string } | undefined {
  const policy = /ValidatingAdmissionPolicy '([^']+)'.*?denied request: (.*)$/.exec(message);
  if (policy) return { part: `admission: ValidatingAdmissionPolicy ${policy[1]}`, reason: policy[2] };
  const webhook = /admission webhook "([^"]+)" denied the request:? ?(.*)$/.exec(message);
  if (webhook) return { part: `admission: webhook ${webhook[1]}`, reason: webhook[2] || 'denied' };
  const pss = /violates PodSecurity "([^"]+)": (.*)$/.exec(message);
  if (pss) return { part: `admission: Pod Security (${pss[1]})`, reason: pss[2] };
  const account = /error looking up service account ([^:]+): serviceaccount "([^"]+)" not found/.exec(message);
  if (account)
    return {
      part: "kube-controller-manager's serviceaccount controller",
      reason: `ServiceAccount ${account[1]} does not exist`,
    };
  const quota = /exceeded quota: (.*)$/.exec(message);
  if (quota) return { part: 'admission: ResourceQuota', reason: quota[1] };
  return undefined;
}

export interface ControlPlaneCause {
  /** The part at fault: "kube-scheduler", "kube-controller-manager's endpointslice controller", "admission: ...". */
  part: string;
  cause: string;
  next: string;
}

/**
 * The control-plane part whose work is missing, if any: checked before anything on the data path,
 * since a Service without pods or EndpointSlices says nothing about the nodes.
 */
export function controlPlaneCause(
  cp: ControlPlaneEvidence,
  service?: {
    id: string;
    readyPods: number;
    /** EndpointSlice objects of the Service (empty ones count: the controller wrote them). */
    slices: number;
    /** The Service selects pods and its ports line up with theirs, so the controller has endpoints to write. */
    wellDefined: boolean;
  },
): ControlPlaneCause | undefined {
  if (!cp.api.ok)
    return {
      part: 'the API server',
      cause: `the API server does not answer: ${cp.api.detail}`,
      next: "check kube-apiserver (its process or pod, its log, and etcd: kubectl get --raw '/readyz?verbose')",
    };
  const ns = cp.namespace;
  const kcmDown = staleLease(cp, 'kube-controller-manager');
  if (ns && !ns.hasDefaultServiceAccount && ns.ageSeconds >= SETTLE_SECONDS) {
    const stuck = cp.deployments.filter((d) => d.replicaSets === 0 && d.ageSeconds >= SETTLE_SECONDS);
    const also = stuck.length ? `, and Deployment ${stuck.map((d) => d.name).join(', ')} has no ReplicaSet` : '';
    const part =
      kcmDown || stuck.length ? 'kube-controller-manager' : "kube-controller-manager's serviceaccount controller";
    return {
      part,
      cause: `${part} is not doing its work: namespace ${ns.name} has had no ServiceAccount "default" for ${ns.ageSeconds} s, so no pod can be created in it${also}${leaseNote(cp, 'kube-controller-manager')}`,
      next: 'check that kube-controller-manager runs and read its log (its serviceaccount and deployment controllers create these)',
    };
  }
  for (const message of cp.failedCreates) {
    const refused = refusal(message);
    if (refused)
      return {
        part: refused.part,
        cause: `${refused.part} refuses the pods: ${refused.reason}${refusedWhat(message)}`,
        next: refused.part.startsWith('admission')
          ? 'read the policy or webhook that refused them (kubectl get validatingadmissionpolicies,validatingwebhookconfigurations) and exempt or fix it'
          : 'check that kube-controller-manager runs and read its log',
      };
  }
  const stuck = cp.deployments.filter(
    (d) => d.replicas > 0 && d.ageSeconds >= SETTLE_SECONDS && (d.replicaSets === 0 || d.pods === 0),
  );
  if (stuck.length) {
    const d = stuck[0];
    const what =
      d.replicaSets === 0 ? 'the deployment controller made no ReplicaSet' : 'the replicaset controller made no pod';
    return {
      part: `kube-controller-manager's ${d.replicaSets === 0 ? 'deployment' : 'replicaset'} controller`,
      cause: `kube-controller-manager's ${d.replicaSets === 0 ? 'deployment' : 'replicaset'} controller is not doing its work: Deployment ${d.name} is ${d.ageSeconds} s old and ${what}${leaseNote(cp, 'kube-controller-manager')}`,
      next: 'check that kube-controller-manager runs (and its --controllers flag) and read its log',
    };
  }
  // A FailedScheduling event is the scheduler's answer: no need to give it time (a wait that failed fast on it).
  const waiting = cp.unscheduled.filter((p) => p.ageSeconds >= SETTLE_SECONDS || p.events.length);
  if (waiting.length) {
    const refused = waiting.find((p) => p.events.length);
    if (refused)
      return {
        part: 'kube-scheduler',
        cause: `kube-scheduler cannot place pod ${refused.pod}: ${refused.events.at(-1)}`,
        next: "compare the pod's requests, node selectors and tolerations with the nodes (kubectl describe pod)",
      };
    return {
      part: 'kube-scheduler',
      cause: `kube-scheduler is not placing pods: ${waiting.length} pod(s) have waited up to ${Math.max(...waiting.map((p) => p.ageSeconds))} s with no node and no scheduling event (${waiting
        .map((p) => p.pod)
        .slice(0, 3)
        .join(', ')}): no scheduler is placing pods${leaseNote(cp, 'kube-scheduler')}`,
      next: 'check that kube-scheduler runs and read its log',
    };
  }
  if (service && service.wellDefined && service.readyPods > 0 && service.slices === 0) {
    const kcm = kcmDown
      ? `kube-controller-manager is not running${leaseNote(cp, 'kube-controller-manager')}`
      : 'other controllers of kube-controller-manager did their work here, so its endpointslice controller is disabled (--controllers) or failing';
    return {
      part: "kube-controller-manager's endpointslice controller",
      cause: `kube-controller-manager's endpointslice controller is not doing its work: ${service.readyPods} pod(s) of ${service.id} are Ready but it has no EndpointSlice: ${kcm}`,
      next: "check kube-controller-manager's --controllers flag and its log for the endpointslice controller",
    };
  }
  return undefined;
}

/** " (pods "client")": which object a refusal message is about, if it says. */
function refusedWhat(message: string): string {
  const what = /(pods "[^"]+")/.exec(message)?.[1];
  return what ? ` (${what})` : '';
}
