import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { presetFiles, presetSpecs } from './presets.js';

describe('presetSpecs', () => {
  it("runs the guide's first five questions in quick", () => {
    expect(presetSpecs('quick')).toEqual([
      'clusterip.spec.ts',
      'dns.spec.ts',
      'endpoints.spec.ts',
      'service-exists.spec.ts',
      'setup.spec.ts',
    ]);
  });

  it('picks up a spec file added later in full', () => {
    const dir = mkdtempSync(join(tmpdir(), 'suites-'));
    for (const f of ['dns.spec.ts', 'new-section.spec.ts', 'notes.md']) writeFileSync(join(dir, f), '');
    expect(presetSpecs('full', dir)).toEqual(['dns.spec.ts', 'new-section.spec.ts']);
  });

  it('takes a disruptive spec in full, last (it runs after the others), and not in quick', () => {
    expect(presetSpecs('full').at(-1)).toBe('recovery.disruptive.spec.ts');
    expect(presetSpecs('quick')).not.toContain('recovery.disruptive.spec.ts');
    const dir = mkdtempSync(join(tmpdir(), 'suites-'));
    for (const f of ['a.disruptive.spec.ts', 'b.spec.ts', 'z.spec.ts']) writeFileSync(join(dir, f), '');
    expect(presetSpecs('full', dir)).toEqual(['b.spec.ts', 'z.spec.ts', 'a.disruptive.spec.ts']);
  });

  it('refuses an unknown preset, naming the known ones', () => {
    expect(() => presetSpecs('slow')).toThrow('unknown preset "slow"; choose one of quick, full, none');
  });

  it("takes a project's specs in full and none, not in quick", () => {
    const ours = mkdtempSync(join(tmpdir(), 'suites-'));
    const theirs = mkdtempSync(join(tmpdir(), 'project-'));
    writeFileSync(join(ours, 'dns.spec.ts'), '');
    mkdirSync(join(theirs, 'nested'));
    writeFileSync(join(theirs, 'nested', 'cilium.spec.ts'), '');
    expect(presetFiles('full', [theirs], ours)).toEqual([
      join(ours, 'dns.spec.ts'),
      join(theirs, 'nested', 'cilium.spec.ts'),
    ]);
    expect(presetFiles('none', [theirs], ours)).toEqual([join(theirs, 'nested', 'cilium.spec.ts')]);
    expect(presetFiles('quick', [theirs], ours)).toEqual([join(ours, 'dns.spec.ts')]);
    expect(() => presetFiles('none', [], ours)).toThrow(/--preset none runs only your own specs/);
  });
});
