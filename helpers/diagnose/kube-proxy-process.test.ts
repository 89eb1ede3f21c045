import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeProxyProcess, duration, parseProxyProcesses } from './kube-proxy-process.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', 'parse', 'fixtures', name), 'utf8');

describe("parseProxyProcesses (recorded: PROCESS_SCRIPT in the self-test nodes' network namespaces)", () => {
  it('reads a kube-proxy stopped with SIGSTOP as state T, with its age', () => {
    const [p, ...rest] = parseProxyProcesses(fixture('proc.kube-proxy-stopped.txt'));
    expect(rest).toEqual([]);
    expect(p.state).toBe('T');
    expect(p.pid).toBeGreaterThan(1);
    expect(p.ageSeconds).toBeGreaterThanOrEqual(0);
    expect(describeProxyProcess(p)).toMatch(/^process \d+ is stopped \(state T: a SIGSTOP, or a debugger\), up \d+/);
  });

  it('reads the running one on the other node, and none when the namespace has no kube-proxy', () => {
    expect(parseProxyProcesses(fixture('proc.kube-proxy-running.txt')).map((p) => p.state)).toEqual(['S']);
    expect(parseProxyProcesses('uptime 5321.07 hz 100\n')).toEqual([]);
    expect(parseProxyProcesses('')).toEqual([]);
  });

  it('says how long in hours, minutes and seconds', () => {
    expect([duration(42), duration(320), duration(7385)]).toEqual(['42s', '5m20s', '2h03m']);
  });
});
