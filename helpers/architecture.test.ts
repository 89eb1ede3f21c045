// The structure rules of docs/ARCHITECTURE.md, checked on every `npm test`: the layers and the
// one-way rule (dependency-cruiser, with the layers written once in .dependency-cruiser.cjs),
// and the one code format (prettier, 120-character lines). A failure names the offending import
// or file.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './config.js';

const bin = (name: string) => join(repoRoot, 'node_modules', '.bin', name);

function tool(name: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync(bin(name), args, { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

describe('architecture', () => {
  it('imports point one way down the layers, with no cycle and no vitest below the vitest layer', () => {
    const cruise = tool('depcruise', [
      '--config',
      '.dependency-cruiser.cjs',
      '--output-type',
      'err',
      'index.ts',
      'helpers',
      'suites',
      'bin',
      'bench',
      'cli-tests',
      'vitest.config.ts',
      'examples',
    ]);
    expect(cruise.status, cruise.output).toBe(0);
  }, 60_000);

  it('every source file is formatted by prettier (npx prettier --write . fixes it)', () => {
    const check = tool('prettier', ['--check', '--log-level', 'warn', '.']);
    expect(check.status, check.output).toBe(0);
  }, 60_000);
});
