import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../config.js';
import { listSpecs } from './spec-list.js';

describe('listSpecs', () => {
  const specs = listSpecs(join(repoRoot, 'suites'));

  it('finds every spec file with its guide section, what it proves, and its checks', () => {
    expect(specs.length).toBeGreaterThanOrEqual(12);
    for (const spec of specs) {
      expect(spec.section, spec.file).not.toBe(spec.file);
      expect(spec.proves, spec.file).not.toBe('');
      expect(spec.checks.length, spec.file).toBeGreaterThan(0);
    }
  });

  it('reads checks declared with it.skipIf(...)', () => {
    const hairpin = specs.find((s) => s.file === 'hairpin.spec.ts')!;
    expect(hairpin.checks).toContain("has hairpin mode on the pod's bridge port (or a promiscuous bridge)");
  });
});
