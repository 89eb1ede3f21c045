// The linter (eslint.config.js) reports the checks that cannot fail: each planted case below is
// linted as if it were a spec of suites/ and must be reported by the rule that names it.
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './config.js';

const PLANTED = 'suites/planted-lint.spec.ts';

/** A spec that is never on disk: the project service types it with the repository's tsconfig.json. */
const eslint = new ESLint({
  cwd: repoRoot,
  overrideConfig: {
    files: [PLANTED],
    languageOptions: {
      parserOptions: {
        project: null,
        projectService: { allowDefaultProject: [PLANTED], defaultProject: 'tsconfig.json' },
      },
    },
  },
});

const source = `import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/kube/wait.js';

const destinations = () => Promise.resolve(['10.244.1.3:9376']);

describe('planted', () => {
  it('compares the real servers with a Promise', async () => {
    const realServers = await destinations();
    expect(realServers).toEqual(destinations());
  });

  it('asserts on a Promise', () => {
    expect(destinations()).toBeDefined();
  });

  it('leaves its wait un-awaited', () => {
    waitFor('kube-proxy rules', 1000, () => Promise.resolve({ done: true, seen: 'rules' }));
    expect(1).toBe(1);
  });

  it('asserts nothing', async () => {
    await destinations();
  });

  it('awaits what it compares, and unwraps a Promise with resolves', async () => {
    expect(await destinations()).toEqual(['10.244.1.3:9376']);
    await expect(destinations()).resolves.toEqual(['10.244.1.3:9376']);
  });
});
`;

describe('the linter', () => {
  it('reports each planted check that cannot fail, by the rule that names it, and nothing else', async () => {
    const [result] = await eslint.lintText(source, { filePath: join(repoRoot, PLANTED) });
    const line = (text: string) => source.split('\n').findIndex((l) => l.includes(text)) + 1;
    expect(result.messages.map((m) => ({ line: m.line, rule: m.ruleId }))).toEqual([
      { line: line('toEqual(destinations())'), rule: 'svc/no-promise-assertion' },
      { line: line('expect(destinations()).toBeDefined()'), rule: 'svc/no-promise-assertion' },
      { line: line("waitFor('kube-proxy rules'"), rule: '@typescript-eslint/no-floating-promises' },
      { line: line("it('asserts nothing'"), rule: 'vitest/expect-expect' },
    ]);
  }, 120_000);
});
