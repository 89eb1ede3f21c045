import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../config.js';
import { formatSpecList, listSpecs } from './spec-list.js';

describe('listSpecs', () => {
  const dns = join(repoRoot, 'suites', 'dns.spec.ts');
  const hairpin = join(repoRoot, 'suites', 'hairpin.spec.ts');
  const collected = [
    { file: dns, path: ['Does the Service work by DNS name?', 'resolves the short name'] },
    { file: dns, path: ['Does any Service work by DNS name?', 'resolves kubernetes.default'] },
    { file: hairpin, path: ['Edge case: A Pod fails to reach itself via the Service IP', 'reaches itself'] },
  ];
  const specs = listSpecs([dns, hairpin], collected);

  it("gives each spec file its section, what its header says it proves, and vitest's names of its checks", () => {
    expect(specs[0]).toMatchObject({ file: 'dns.spec.ts', section: 'Does the Service work by DNS name?' });
    expect(specs[0].proves).not.toBe('');
    expect(specs[0].checks).toEqual(['resolves the short name', 'resolves kubernetes.default']);
  });

  it('puts the quick specs in both presets and the rest in full only', () => {
    expect(specs[0].presets).toEqual(['quick', 'full']);
    expect(specs[1].presets).toEqual(['full']);
  });

  it('says a disruptive spec runs last, alone', () => {
    const recovery = join(repoRoot, 'suites', 'recovery.disruptive.spec.ts');
    const [entry] = listSpecs([recovery], [{ file: recovery, path: ['Beyond the guide: recovery', 'x'] }]);
    expect(entry.disruptive).toBe(true);
    expect(formatSpecList([entry])).toMatch(/\[preset: full; disruptive: runs last, alone\]/);
    expect(specs[0].disruptive).toBe(false);
  });

  it('prints a file per paragraph, a check per line', () => {
    expect(formatSpecList(specs)).toMatch(
      /^dns\.spec\.ts — Does the Service work by DNS name\?  \[preset: quick, full\]/,
    );
    expect(formatSpecList(specs)).toContain('  · reaches itself');
  });
});
