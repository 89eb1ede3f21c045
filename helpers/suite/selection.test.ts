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
  it("runs the quick preset's five spec files", () => {
    const { vitestArgs } = selectChecks({ preset: 'quick' });
    expect(vitestArgs.map((a) => a.split('/').pop())).toEqual([
      'clusterip.spec.ts',
      'dns.spec.ts',
      'endpoints.spec.ts',
      'service-exists.spec.ts',
      'setup.spec.ts',
    ]);
  });

  it('counts the checks a focus keeps', () => {
    const dns = selectChecks({ focus: 'by DNS name' });
    expect(dns.checks).toBeGreaterThanOrEqual(5);
    expect(dns.vitestArgs.slice(-2)[0]).toBe('-t');
  });

  it('refuses a focus that matches no check, before any cluster is made', () => {
    expect(() => selectChecks({ focus: 'no such check' })).toThrow(
      '--focus "no such check" leaves no check to run in preset full; svc-conformance list shows every check\'s name',
    );
    expect(() => selectChecks({ preset: 'quick', focus: 'hairpin' })).toThrow(/in preset quick/);
  });
});
