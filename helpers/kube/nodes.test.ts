import type { V1Node } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { firstHost, hostInRange, internalIP, internalIPs, isNodeReady, readiness } from './nodes.js';

function node(name: string, status: V1Node['status']): V1Node {
  return { metadata: { name }, status };
}

describe('hostInRange', () => {
  it('counts addresses from the start of an IPv4 range', () => {
    expect(firstHost('10.244.1.0/24')).toBe('10.244.1.1');
    expect(hostInRange('10.251.0.0/24', 10)).toBe('10.251.0.10');
    expect(hostInRange('10.0.254.0/23', 300)).toBe('10.0.255.44');
  });

  it('counts IPv6 ranges the same way, and gives nothing past the end of a range', () => {
    expect(hostInRange('10.251.0.0/30', 4)).toBeUndefined();
    expect(firstHost('fd00:10:244:1::/64')).toBe('fd00:10:244:1::1');
    expect(hostInRange('fd00:10:251::/112', 10)).toBe('fd00:10:251::a');
    expect(hostInRange('fd00:10:251::/126', 4)).toBeUndefined();
  });
});

describe('isNodeReady', () => {
  it('is true only when the Ready condition is True', () => {
    expect(isNodeReady(node('a', { conditions: [{ type: 'Ready', status: 'True' }] }))).toBe(true);
    expect(isNodeReady(node('a', { conditions: [{ type: 'Ready', status: 'False' }] }))).toBe(false);
    expect(isNodeReady(node('a', { conditions: [{ type: 'Ready', status: 'Unknown' }] }))).toBe(false);
  });

  it('does not take another True condition for Ready', () => {
    expect(isNodeReady(node('a', { conditions: [{ type: 'MemoryPressure', status: 'True' }] }))).toBe(false);
  });

  it('is false for a node with no status yet', () => {
    expect(isNodeReady(node('a', undefined))).toBe(false);
    expect(isNodeReady(node('a', {}))).toBe(false);
  });
});

describe('internalIP', () => {
  const dualStack = node('a', {
    addresses: [
      { type: 'Hostname', address: 'a' },
      { type: 'InternalIP', address: '172.30.0.2' },
      { type: 'ExternalIP', address: '203.0.113.5' },
      { type: 'InternalIP', address: 'fd00:30::2' },
    ],
  });

  it('gives the InternalIPs in the order the node lists them, nothing else', () => {
    expect(internalIPs(dualStack)).toEqual(['172.30.0.2', 'fd00:30::2']);
    expect(internalIP(dualStack)).toBe('172.30.0.2');
  });

  it('gives nothing for a node without an InternalIP', () => {
    expect(internalIPs(node('a', { addresses: [{ type: 'Hostname', address: 'a' }] }))).toEqual([]);
    expect(internalIP(node('a', undefined))).toBeUndefined();
  });
});

describe('readiness', () => {
  it('names each node with Ready or NotReady', () => {
    const nodes = [node('a', { conditions: [{ type: 'Ready', status: 'True' }] }), node('b', {})];
    expect(readiness(nodes)).toBe('a=Ready, b=NotReady');
  });

  it('says so when no node has registered', () => {
    expect(readiness([])).toBe('no nodes registered');
  });
});
