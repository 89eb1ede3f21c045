import { describe, expect, it } from 'vitest';
import { testNameFilter } from './cli.js';

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
    expect(() => testNameFilter('(')).toThrow(/--focus "\(" is not a valid regular expression/);
  });
});
