import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { flowEntry, parseConntrack } from './conntrack.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('parseConntrack', () => {
  it('reads a UDP flow to a ClusterIP and the backend that answers it (recorded, conntrack 1.4.7)', () => {
    const [entry] = parseConntrack(fixture('conntrack-udp-flow.txt'));
    expect(entry).toEqual({
      protocol: 'udp',
      timeout: 29,
      original: { src: '10.244.1.3', dst: '10.96.25.39', sport: 23508, dport: 80 },
      reply: { src: '10.244.1.5', dst: '10.244.1.3', sport: 9376, dport: 23508 },
      flags: [],
    });
  });

  it('reads TCP entries with their state word and flags, and skips lines that are no entry', () => {
    const entries = parseConntrack(
      `${fixture('conntrack-L.excerpt.txt')}\nconntrack v1.4.7 (conntrack-tools): 15 flow entries have been shown.\n`,
    );
    expect(entries).toHaveLength(15);
    const established = entries.find((e) => e.original.dport === 2379)!;
    expect(established.protocol).toBe('tcp');
    expect(established.flags).toEqual(['ASSURED']);
    expect(established.reply).toEqual({
      src: '127.0.0.1',
      dst: '127.0.0.1',
      sport: 2379,
      dport: established.original.sport,
    });
  });

  it('finds the entry of one flow by ClusterIP and source port, and nothing for another port', () => {
    const entries = parseConntrack(fixture('conntrack-L.excerpt.txt'));
    expect(flowEntry(entries, '10.96.25.39', 23508)?.reply.src).toBe('10.244.1.5');
    expect(flowEntry(entries, '10.96.25.39', 23509)).toBeUndefined();
  });
});
