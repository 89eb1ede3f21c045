// Four projects: `unit` (parsers and helpers, no cluster, seconds), `suites` (the guide's
// sections against a real cluster that helpers/suite/global-setup.ts creates or attaches),
// `disruptive` (specs that restart or flush parts of that cluster: after every suite, one file
// at a time, so nothing else runs while a part is down) and `cli` (the svc-conformance command
// end to end: bad input, interrupted runs, presets, reports; on local clusters of its own, last).
import { join } from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';
import { readSettings } from './helpers/settings.js';

const settings = readSettings();
const viteCache = join(settings.buildDir, 'vite');
/** The workers' pre-bundled dependencies (the suites' and disruptive projects alike). */
const PRE_BUNDLED = {
  optimizer: {
    ssr: {
      enabled: true,
      include: ['@kubernetes/client-node', 'execa', 'yaml'],
      rolldownOptions: { output: { minify: true } },
    },
  },
};
/** Specs that disrupt the cluster (restart kube-proxy or the API server, flush rules): never beside another spec. */
const DISRUPTIVE = '**/*.disruptive.spec.ts';

export default defineConfig({
  // Every cache of a run lives in the build folder (a checkout's .build/, or the user's project for
  // an installed package: never the package itself), beside the CLI's bundle: vite's, the workers'
  // pre-bundled dependencies (the suites' project below) and the transformed modules, which import
  // those bundles by path. Two checkouts sharing one node_modules must not rewrite each other's
  // bundles, nor read modules transformed against them.
  cacheDir: viteCache,
  test: {
    // Transformed spec and helper modules are kept on disk (keyed by content): each of a run's
    // workers reads them instead of transforming them again.
    experimental: { fsModuleCache: true, fsModuleCachePath: join(viteCache, 'modules') },
    reporters: [
      'default',
      ['junit', { outputFile: settings.junitFile, suiteName: 'svc-conformance' }],
      ['json', { outputFile: `${settings.resultsDir}/results.json` }],
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
        cacheDir: viteCache,
        test: {
          name: 'suites',
          // The suites' specs and a project's own (svc-conformance run --suites DIR).
          include: ['suites/**/*.spec.ts', ...settings.run.suiteDirs.map((dir) => `${dir}/**/*.spec.ts`)],
          exclude: [...configDefaults.exclude, DISRUPTIVE],
          globalSetup: ['helpers/suite/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
          // Specs wait on the cluster, not the CPU: run several files at once. A worker keeps
          // its modules from one spec file to the next (loading the Kubernetes client and the
          // helpers costs ~1.5 s of CPU per file otherwise); every spec's state lives in its
          // own describe, and every spec works in namespaces of its own. Workers are threads of
          // one process: the full suite's peak memory fell from 1.8 GiB (child processes) to 0.9
          // (with the CLI's 2 MB semi-spaces).
          pool: 'threads',
          maxWorkers: settings.run.parallel,
          isolate: false,
          // Each worker imports the Kubernetes client, execa and yaml as one pre-bundled, minified
          // file each (vite's dependency optimizer, cached in the build folder) instead of ~1,100
          // modules one by one. Full suite on one node: CLI and vitest CPU 16.5-17.4 s -> 11.5 s,
          // vitest's peak RSS 0.80 -> 0.64 GiB (0.87 GiB bundled but not minified).
          deps: PRE_BUNDLED,
          sequence: { concurrent: false, groupOrder: 1 },
        },
      },
      {
        cacheDir: viteCache,
        test: {
          name: 'disruptive',
          // The same cluster as the suites' (the run's handle, or one globalSetup makes or reuses), after
          // them: a spec here restarts kube-proxy or the API server, and no other spec may run meanwhile.
          include: ['suites/**/*.disruptive.spec.ts', ...settings.run.suiteDirs.map((dir) => `${dir}/${DISRUPTIVE}`)],
          globalSetup: ['helpers/suite/global-setup.ts'],
          // A recovery waits up to two of kube-proxy's 30 s canary periods (and kubelet's 60 s one) per check.
          testTimeout: 240_000,
          hookTimeout: 240_000,
          pool: 'threads',
          fileParallelism: false,
          isolate: false,
          deps: PRE_BUNDLED,
          sequence: { concurrent: false, groupOrder: 2 },
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
          sequence: { concurrent: false, groupOrder: 3 },
        },
      },
    ],
  },
});
