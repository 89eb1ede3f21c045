import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { presetSpecs } from './presets.js';

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

  it('refuses an unknown preset, naming the known ones', () => {
    expect(() => presetSpecs('slow')).toThrow('unknown preset "slow"; choose one of quick, full');
  });
});
