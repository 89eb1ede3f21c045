import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSubnetEnv } from './subnet-env.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('parseSubnetEnv', () => {
  it("reads flanneld's network, the node's lease (as a range and its gateway), the MTU and masquerading", () => {
    expect(parseSubnetEnv(fixture('subnet.env.flannel'))).toEqual({
      network: '10.226.0.0/16',
      subnet: '10.226.1.0/24',
      gateway: '10.226.1.1',
      mtu: 1450,
      ipMasq: true,
    });
  });

  it('is undefined for a file flanneld has not finished (no MTU yet) or that is not its', () => {
    expect(parseSubnetEnv('FLANNEL_NETWORK=10.226.0.0/16\nFLANNEL_SUBNET=10.226.1.1/24\n')).toBeUndefined();
    expect(parseSubnetEnv('')).toBeUndefined();
  });
});
