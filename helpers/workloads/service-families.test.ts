// How a Service's families and its EndpointSlices per family are judged.
import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { describeSlices, familyProblems, readyPodsByFamily } from './service-families.js';

const service = (spec: k8s.V1ServiceSpec) => ({ spec }) as k8s.V1Service;
const dual = { policy: 'RequireDualStack', families: ['IPv6', 'IPv4'] } as const;

describe('familyProblems', () => {
  it('has none where policy, families and ClusterIPs are as asked, in order', () => {
    const asked = service({
      ipFamilyPolicy: 'RequireDualStack',
      ipFamilies: ['IPv6', 'IPv4'],
      clusterIP: 'fd00:10:96::4',
      clusterIPs: ['fd00:10:96::4', '10.96.0.4'],
    });
    expect(familyProblems(asked, { ...dual, families: [...dual.families] })).toEqual([]);
  });

  it('names families out of order, a ClusterIP of the wrong family and a clusterIP that is not the first', () => {
    const swapped = service({
      ipFamilyPolicy: 'RequireDualStack',
      ipFamilies: ['IPv4', 'IPv6'],
      clusterIP: 'fd00:10:96::4',
      clusterIPs: ['fd00:10:96::4', '10.96.0.4'],
    });
    expect(familyProblems(swapped, { ...dual, families: [...dual.families] })).toEqual([
      'ipFamilies [IPv4, IPv6] (asked [IPv6, IPv4])',
      'clusterIPs [fd00:10:96::4, 10.96.0.4] are of [IPv6, IPv4], not of ipFamilies',
    ]);
    const single = service({ ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4'], clusterIPs: ['10.96.0.5'] });
    expect(familyProblems(single, { policy: 'SingleStack', families: ['IPv4'] })).toEqual([
      'ipFamilyPolicy PreferDualStack (asked SingleStack)',
      'clusterIP undefined is not clusterIPs[0]',
    ]);
  });
});

describe('readyPodsByFamily', () => {
  const slice = (addressType: string, pods: [string, boolean][]) =>
    ({
      addressType,
      endpoints: pods.map(([name, ready]) => ({ addresses: ['x'], conditions: { ready }, targetRef: { name } })),
    }) as k8s.V1EndpointSlice;

  it('lists the ready pods of each addressType, a family with none ready included', () => {
    const byFamily = readyPodsByFamily([
      slice('IPv6', [
        ['b', true],
        ['a', true],
      ]),
      slice('IPv4', [['a', false]]),
    ]);
    expect(byFamily).toEqual({ IPv6: ['a', 'b'], IPv4: [] });
    expect(describeSlices(byFamily)).toBe('IPv6: a, b; IPv4: none ready');
    expect(describeSlices({})).toBe('no EndpointSlices');
  });
});
