import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { readyPodsControlledBy } from './owned-pods.js';

const STATEFULSET = 'a1b2c3d4-0000-4000-8000-000000000001';

function pod(name: string, options: { owner?: string; controller?: boolean; ready?: boolean; deleting?: boolean }) {
  return {
    metadata: {
      name,
      ownerReferences: options.owner
        ? [
            {
              apiVersion: 'apps/v1',
              kind: 'StatefulSet',
              name: 'web',
              uid: options.owner,
              controller: options.controller ?? true,
            },
          ]
        : undefined,
      deletionTimestamp: options.deleting ? new Date() : undefined,
    },
    status: { conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }] },
  } as k8s.V1Pod;
}

describe('readyPodsControlledBy', () => {
  it('keeps the Ready pods the owner controls, whatever their labels, and no other', () => {
    const pods = [
      pod('web-1', { owner: STATEFULSET }),
      pod('web-0', { owner: STATEFULSET }),
      pod('web-2', { owner: STATEFULSET, ready: false }),
      pod('web-3', { owner: STATEFULSET, deleting: true }),
      pod('stray', {}), // labelled like the pods, listed by a wrong EndpointSlice: not the workload's
      pod('other', { owner: 'another-statefulset' }),
      pod('adopted-not-controlled', { owner: STATEFULSET, controller: false }),
    ];
    expect(readyPodsControlledBy(pods, new Set([STATEFULSET])).map((p) => p.metadata!.name)).toEqual([
      'web-0',
      'web-1',
    ]);
  });
});
