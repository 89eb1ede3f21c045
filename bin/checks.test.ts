import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSettings } from '../helpers/settings.js';
import { collectKey } from './checks.js';

describe('collectKey', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svc-collect-key-'));
  const spec = join(dir, 'a.spec.ts');
  const keyOf = (env: Record<string, string>) => collectKey([spec], readSettings(env), env);

  it('changes with a spec file, the asked shape, but not with where results go', () => {
    writeFileSync(spec, "describe('a', () => it('one', () => {}));\n");
    const base = keyOf({ SVC_NODES: '1' });
    expect(keyOf({ SVC_NODES: '1', SVC_RESULTS: join(dir, 'elsewhere'), SVC_PHASES: join(dir, 'p') })).toBe(base);
    expect(keyOf({ SVC_NODES: '2' })).not.toBe(base);
    expect(keyOf({ SVC_NODES: '1', SVC_PROXY_MODE: 'nftables' })).not.toBe(base);
    writeFileSync(spec, "describe('a', () => it('two', () => {}));\n");
    expect(keyOf({ SVC_NODES: '1' })).not.toBe(base);
  });
});
