import { describe, expect, it } from 'vitest';
import type { BackendPod } from './backends.js';
import { groupByPath, pathVerdict } from './node-paths.js';

const pod = (name: string, node: string): BackendPod => ({ name, node, ip: '10.244.0.1', uid: name });
const pods = [pod('a', 'n1'), pod('b', 'n1'), pod('c', 'n2')];

describe('pathVerdict', () => {
  it('says only same-node backends answer when every cross-node one is silent', () => {
    expect(pathVerdict(groupByPath(pods, 'n1'), new Set(['c']))).toContain(
      'only same-node backends answer: none of c on n2 did',
    );
  });

  it('says only cross-node backends answer when two or more same-node ones are all silent', () => {
    expect(pathVerdict(groupByPath(pods, 'n1'), new Set(['a', 'b']))).toContain('only cross-node backends answer');
  });

  it('does not generalise from one silent same-node pod', () => {
    expect(pathVerdict(groupByPath(pods, 'n2'), new Set(['c']))).toBe('backends that did not answer: c');
  });

  it('says every backend answered when none is silent', () => {
    expect(pathVerdict(groupByPath(pods, 'n1'), new Set())).toBe('every backend answered');
  });
});
