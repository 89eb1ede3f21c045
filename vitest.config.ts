// Three projects: `unit` (parsers and helpers, no cluster, seconds), `suites` (the guide's
// sections against a real cluster that helpers/suite/global-setup.ts creates or attaches) and
// `cli` (the svc-conformance command end to end: bad input, interrupted runs, presets,
// reports; on local clusters of its own, after the suites).
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

const results = process.env.SVC_RESULTS || 'test-results';

export default defineConfig({
  test: {
    reporters: [
      'default',
      ['junit', { outputFile: process.env.SVC_JUNIT || join(results, 'junit.xml'), suiteName: 'svc-conformance' }],
      ['json', { outputFile: join(results, 'results.json') }],
      './helpers/report/summary-reporter.ts',
    ],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['helpers/**/*.test.ts', 'bin/**/*.test.ts'],
          testTimeout: 10_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'suites',
          include: ['suites/**/*.spec.ts'],
          globalSetup: ['helpers/suite/global-setup.ts'],
          setupFiles: ['helpers/suite/diagnose-on-failure.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
          // Specs wait on the cluster, not the CPU: run several files at once. A worker keeps
          // its modules from one spec file to the next (loading the Kubernetes client and
          // the helpers costs ~1.5 s of CPU per file otherwise); per-file state is reset by
          // the setup file, and every spec works in namespaces of its own.
          maxWorkers: Number(process.env.SVC_PARALLEL || 10),
          isolate: false,
          sequence: { concurrent: false, groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'cli',
          include: ['cli-tests/**/*.test.ts'],
          globalSetup: ['cli-tests/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // Each file drives whole runs and clusters: one at a time.
          fileParallelism: false,
          sequence: { concurrent: false, groupOrder: 2 },
        },
      },
    ],
  },
});
