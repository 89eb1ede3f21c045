// The structure rules of docs/ARCHITECTURE.md, checked on every `npm test`: the layers and the
// one-way rule (dependency-cruiser, with the layers written once in .dependency-cruiser.cjs),
// the one code format (prettier, 120-character lines), and the linter that finds checks which
// cannot fail (eslint.config.js). A failure names the offending import, file or line.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './config.js';

const bin = (name: string) => join(repoRoot, 'node_modules', '.bin', name);

function tool(name: string, args: string[], timeout = 60_000): { status: number | null; output: string } {
  const r = spawnSync(bin(name), args, { cwd: repoRoot, encoding: 'utf8', timeout });
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

  it('the linter finds nothing: no Promise asserted on, no wait left un-awaited, no check without an assertion (npm run lint)', () => {
    // Type-aware: it builds the whole program as tsc does (about 30 s of CPU), more on a busy machine.
    const lint = tool('eslint', ['--max-warnings', '0', '.'], 290_000);
    expect(lint.status, lint.output).toBe(0);
  }, 300_000);
});
