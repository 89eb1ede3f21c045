// The race set: the ledger's covered tests only, upstream's focus selecting each and nothing else,
// and ours naming each covering check whole, on the raced cluster's nodes.
import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from './ledger.js';
import { coveredOf, oursFocus, upstreamFocus } from './race.js';
import type { UpstreamTest } from './upstream-tests.js';

const test = (line: number, title: string): UpstreamTest => ({
  file: 'service.go',
  line,
  title: `[sig-network] ${title}`,
  labels: ['sig-network'],
  conformance: title.includes('[Conformance]'),
});
const upstream = [
  test(1294, 'Services should be able to create a functioning NodePort service [Conformance]'),
  test(2398, 'Services should be rejected when no endpoints exist'),
];
const nodePort = "Beyond the guide: NodePort answers on svc-node-1's address from a pod";
const entries: LedgerEntry[] = [
  { file: 'service.go', test: ledgerTitle(upstream[0]), status: 'covered', family: 'data-path', checks: [nodePort] },
  { file: 'service.go', test: ledgerTitle(upstream[1]), status: 'todo', family: 'no-endpoints' },
];

function ledgerTitle(t: UpstreamTest) {
  return t.title.replace('[sig-network] ', '');
}

describe('the race set', () => {
  it('is the covered tests, with the checks that cover them', () => {
    expect(coveredOf(upstream, entries).map((t) => [t.line, t.checks])).toEqual([[1294, [nodePort]]]);
  });

  it('leaves out the [Disruptive] tests, which upstream runs alone', () => {
    const restart = {
      ...test(1214, 'Services should work after restarting kube-proxy [Disruptive]'),
      labels: ['sig-network', 'Disruptive'],
    };
    const covered: LedgerEntry = {
      file: 'service.go',
      test: ledgerTitle(restart),
      status: 'covered',
      family: 'recovery',
      checks: [nodePort],
    };
    expect(coveredOf([...upstream, restart], [...entries, covered]).map((t) => t.line)).toEqual([1294]);
  });

  it('focuses upstream on each covered title, escaped and anchored at its end', () => {
    const longer = test(9999, 'Services should be able to create a functioning NodePort service [Conformance] twice');
    expect(upstreamFocus(coveredOf(upstream, entries), [...upstream, longer])).toBe(
      '\\[sig-network\\] Services should be able to create a functioning NodePort service \\[Conformance\\]$',
    );
  });

  it('refuses a focus that would also run a test the ledger did not count', () => {
    const wider = { ...upstream[0], line: 9999, title: `[sig-network] Outer ${upstream[0].title}` };
    expect(() => upstreamFocus(coveredOf(upstream, entries), [...upstream, wider])).toThrow(/would also run/);
  });

  it('focuses ours on each check whole, its node named after the raced cluster', () => {
    expect(oursFocus(coveredOf(upstream, entries), 'bench')).toBe(
      "^Beyond the guide: NodePort answers on bench-node-1's address from a pod$",
    );
  });
});
