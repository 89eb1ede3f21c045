import { describe, expect, it } from 'vitest';
import { overlapMessage } from './network.js';

// The routes as `ip -j route` printed them on this machine when a killed bench run had left its
// cluster "bench" behind and `npm test` then tried to make its own cluster "svc" on the same ranges.
const left = { dst: '10.250.0.0/24', dev: 'svcbench-h' };

describe('overlapMessage', () => {
  it('names a left-behind local cluster and the command that removes it', () => {
    expect(overlapMessage(left, '10.250.0.0/24', () => false)).toBe(
      'local cluster "bench" was left behind by a run that no longer runs (none of its processes is alive), and its 10.250.0.0/24 via svcbench-h overlaps this cluster\'s 10.250.0.0/24; remove it with `svc-conformance cluster down --name bench`, or set SVC_NODE_SUBNET / SVC_POD_CIDR / SVC_SERVICE_CIDR / SVC_EXTERNAL_IP_RANGE / SVC_LB_IP_RANGE to free ranges',
    );
  });

  it('asks for ranges of its own when that cluster is running', () => {
    const message = overlapMessage(left, '10.250.0.0/24', (name) => name === 'bench');
    expect(message).toMatch(/^local cluster "bench" is running on 10\.250\.0\.0\/24 via svcbench-h/);
    expect(message).toContain('set SVC_NODE_SUBNET');
  });

  it('says only the route for a link that is not one of ours', () => {
    expect(overlapMessage({ dst: '10.250.0.0/16', dev: 'eth1' }, '10.250.0.0/24', () => false)).toBe(
      "this machine already routes 10.250.0.0/16 via eth1, which overlaps the local cluster's 10.250.0.0/24; set SVC_NODE_SUBNET / SVC_POD_CIDR / SVC_SERVICE_CIDR / SVC_EXTERNAL_IP_RANGE / SVC_LB_IP_RANGE to free ranges",
    );
  });
});
