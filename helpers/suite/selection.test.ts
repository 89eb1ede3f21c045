import { describe, expect, it } from 'vitest';
import { selectChecks, testNameFilter } from './selection.js';

describe('testNameFilter', () => {
  const matches = (args: string[], name: string) => new RegExp(args[1]).test(name);

  it('passes nothing when neither --focus nor --skip is given', () => {
    expect(testNameFilter()).toEqual([]);
  });

  it('keeps names matching --focus and drops names matching --skip', () => {
    const args = testNameFilter('DNS|IP', 'FQDN');
    expect(matches(args, 'Does the Service work by DNS name? resolves the short name')).toBe(true);
    expect(matches(args, 'Does the Service work by DNS name? resolves the FQDN from a node')).toBe(false);
    expect(matches(args, 'Are the Pods working? has not restarted')).toBe(false);
    expect(matches(testNameFilter(undefined, 'hairpin'), 'Edge case hairpin mode')).toBe(false);
  });

  it('refuses an invalid regular expression with a usage error', () => {
    expect(() => testNameFilter('(')).toThrow(
      /--focus "\(" is not a valid regular expression \(Unterminated group\); fix the pattern/,
    );
  });
});

describe('selectChecks', () => {
  // Checks as vitest collects them (bin/collect.ts): a file and the describe and check titles.
  const collected = [
    { file: '/s/dns.spec.ts', path: ['Does the Service work by DNS name?', 'resolves the short name'] },
    { file: '/s/dns.spec.ts', path: ['Does the Service work by DNS name?', 'resolves the FQDN from node svc-node-1'] },
    { file: '/s/hairpin.spec.ts', path: ['Edge case: hairpin', 'reaches itself'] },
    { file: '/p/cilium.spec.ts', path: ['Cilium: service map', 'lists the Service on svc-node-1'] },
  ];
  const files = ['/s/dns.spec.ts', '/s/hairpin.spec.ts', '/p/cilium.spec.ts'];

  it('runs every file of the preset when nothing is filtered', () => {
    expect(selectChecks({ preset: 'full' }, files, collected)).toEqual({ vitestArgs: files, checks: 4 });
  });

  it('keeps the files with a check the focus keeps, matching names as vitest built them', () => {
    const node = selectChecks({ preset: 'full', focus: 'svc-node-1' }, files, collected);
    expect(node.checks).toBe(2);
    expect(node.vitestArgs.slice(0, 2)).toEqual(['/s/dns.spec.ts', '/p/cilium.spec.ts']);
    expect(node.vitestArgs.slice(-2)[0]).toBe('-t');
  });

  it('refuses a focus that matches no check, before any cluster is made', () => {
    expect(() => selectChecks({ preset: 'full', focus: 'no such check' }, files, collected)).toThrow(
      '--focus "no such check" leaves no check to run in preset full; svc-conformance list shows every check\'s name',
    );
    expect(() => selectChecks({ preset: 'quick', focus: 'hairpin' }, ['/s/dns.spec.ts'], collected)).toThrow(
      /in preset quick/,
    );
  });
});
