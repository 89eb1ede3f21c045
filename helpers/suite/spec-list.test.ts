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

describe('listSpecs names', () => {
  const specs = listSpecs(join(repoRoot, 'suites'));

  it('gives each check its describe title, as vitest -t matches it', () => {
    const dns = specs.find((s) => s.file === 'dns.spec.ts')!;
    expect(dns.fullNames).toContain(
      'Does the Service work by DNS name? resolves the short name from the same namespace',
    );
    expect(dns.fullNames.some((n) => n.startsWith('Does any Service work by DNS name? '))).toBe(true);
    const rules = specs.find((s) => s.file === 'kube-proxy-rules.spec.ts')!;
    expect(rules.fullNames.every((n) => n.startsWith('Is kube-proxy writing iptables rules? '))).toBe(true);
  });

  it('puts the quick specs in both presets and the rest in full only', () => {
    expect(specs.find((s) => s.file === 'dns.spec.ts')!.presets).toEqual(['quick', 'full']);
    expect(specs.find((s) => s.file === 'hairpin.spec.ts')!.presets).toEqual(['full']);
  });
});
