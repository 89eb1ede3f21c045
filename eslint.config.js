// The linter that catches checks which cannot fail (npm run lint; in every `npm test` through
// helpers/architecture.test.ts): a Promise compared or asserted on instead of its value, a
// wait nobody awaits, a check with no assertion, an assertion a condition can skip. Type-aware
// (typescript-eslint reads tsconfig.json's program); prettier owns the format.
import vitest from '@vitest/eslint-plugin';
import tseslint from 'typescript-eslint';
import { noPromiseAssertion } from './lint/no-promise-assertion.js';

/** Every test and spec: the repository's own and the example project's. */
const CHECKS = ['suites/**/*.spec.ts', '**/*.test.ts', 'examples/**/*.spec.ts'];

export default tseslint.config(
  { ignores: ['node_modules/', '.build/', 'test-results/', 'setup/', '**/node_modules/'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      // One program for the repository's tsconfig.json (faster here than the project service: 29 s of CPU, not 38).
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@typescript-eslint': tseslint.plugin, svc: { rules: { 'no-promise-assertion': noPromiseAssertion } } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/require-await': 'error',
      'svc/no-promise-assertion': 'error',
      'no-empty-pattern': 'error', // vitest hooks take their context as `{}` only where a disable says why
    },
  },
  {
    // The example project imports `svc-conformance` as an installed package: typed from this checkout's index.ts.
    files: ['examples/**/*.ts'],
    languageOptions: {
      parserOptions: {
        project: './lint/tsconfig.examples.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    files: CHECKS,
    plugins: { vitest },
    // A project's specs take describe, it and expect from svc-conformance, which passes vitest's on.
    settings: { vitest: { vitestImports: ['svc-conformance'] } },
    rules: {
      // cli-tests assert through expectRefused and refused (exit 2, one line on stderr, nothing made).
      'vitest/expect-expect': [
        'error',
        { assertFunctionNames: ['expect', 'expect.*', 'expectRefused', 'refused', 'mirrorsTo'] },
      ],
      'vitest/valid-expect': ['error', { alwaysAwait: true, maxArgs: 2 }],
      'vitest/no-identical-title': 'error',
      'vitest/no-conditional-expect': 'error',
    },
  },
);
