import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { refusedForGood, unschedulableForGood } from './stuck.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'parse', 'fixtures', name), 'utf8')) as unknown;

describe('unschedulableForGood (recorded: a pod and the nodes of the self-test cluster with every node tainted)', () => {
  const pod = fixture('pod.untolerated-taint.json') as k8s.V1Pod;
  const nodes = (fixture('nodes.tainted.json') as k8s.V1NodeList).items;

  it("names the scheduler's reason and the nodes' taint", () => {
    expect(unschedulableForGood(pod, nodes)).toBe(
      "no node can take pod stuck: 0/2 nodes are available: 2 node(s) had untolerated taint(s): untolerated taint svc-selftest/blocked:NoSchedule on selftest-node-1, selftest-node-2 (the scheduler's FailedScheduling; a taint does not clear by itself: remove it, or tolerate it with SVC_WORKLOAD_PATCH)",
    );
  });

  it('waits out the taints a node carries while it comes up, tolerated taints, and pods that were scheduled', () => {
    const notReady = structuredClone(nodes);
    notReady[1].spec!.taints = [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }];
    expect(unschedulableForGood(pod, notReady)).toBeUndefined();
    const tolerating = structuredClone(pod);
    tolerating.spec!.tolerations = [{ key: 'svc-selftest/blocked', operator: 'Exists' }];
    expect(unschedulableForGood(tolerating, nodes)).toBeUndefined();
    const scheduled = { status: { conditions: [{ type: 'PodScheduled', status: 'True' }] } };
    expect(unschedulableForGood(scheduled, nodes)).toBeUndefined();
  });
});

describe("refusedForGood (recorded: a ReplicaSet past its namespace's pod quota)", () => {
  const sets = (fixture('replicasets.quota-exceeded.json') as k8s.V1ReplicaSetList).items;

  it('names a quota the pods exceed', () => {
    expect(refusedForGood(sets.flatMap((s) => s.status?.conditions ?? []))).toMatch(
      /^a ResourceQuota refuses the pods: FailedCreate: pods "hostnames-\S+" is forbidden: exceeded quota: one-pod/,
    );
  });

  it('waits out a namespace whose ServiceAccount is not made yet', () => {
    const message =
      'pods "hostnames-5d-x" is forbidden: error looking up service account ns/default: serviceaccount "default" not found';
    expect(
      refusedForGood([{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message }]),
    ).toBeUndefined();
  });
});
