import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNeighbours } from './neighbours.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

describe('parseNeighbours', () => {
  it("reads busybox's entries, answered and failed", () => {
    const entries = parseNeighbours(fixture('ip-neigh.busybox.txt'));
    expect(entries).toHaveLength(10);
    expect(entries[0]).toEqual({ dst: '172.29.1.11', dev: 'eth0', lladdr: '02:42:ac:1d:00:03', state: ['REACHABLE'] });
    expect(entries.find((e) => e.dst === '172.29.1.10')).toEqual({
      dst: '172.29.1.10',
      dev: 'eth0',
      state: ['FAILED'],
    });
  });

  it("reads iproute2's entries, one still asking and one nobody answered", () => {
    const entries = parseNeighbours(fixture('ip-neigh.iproute2.txt'));
    expect(entries.map((e) => `${e.dst} ${e.lladdr ?? '-'} ${e.state.join(',')}`)).toEqual([
      '172.29.1.4 02:42:ac:1d:00:03 STALE',
      '172.29.0.4 02:42:ac:1d:00:04 STALE',
      '172.29.0.1 02:42:51:27:e1:78 REACHABLE',
      '172.29.1.252 - INCOMPLETE',
      '172.29.0.3 02:42:ac:1d:00:03 REACHABLE',
      '172.29.1.253 - FAILED',
    ]);
  });

  it('reads nothing from empty output', () => {
    expect(parseNeighbours('\n')).toEqual([]);
  });
});
