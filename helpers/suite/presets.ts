// Presets name which spec files a run takes: `quick` is the guide's first five questions (a
// fast smoke test on a warm cluster), `full` every spec in suites/ and in a project's own spec
// folders (--suites), including specs added later, since both are read from the directories;
// `none` a project's specs alone. A disruptive spec (*.disruptive.spec.ts: it restarts or flushes
// parts of the cluster) is in full, listed last, as vitest's `disruptive` project runs it: after the
// others, alone.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../config.js';
import { UsageError } from '../errors.js';

export const PRESETS = ['quick', 'full', 'none'] as const;
export type Preset = (typeof PRESETS)[number];
export const DEFAULT_PRESET: Preset = 'full';

/** The quick preset's specs, in guide order: pods answer, the Service exists, DNS, ClusterIP, Endpoints. */
const QUICK = ['setup', 'service-exists', 'dns', 'clusterip', 'endpoints'].map((s) => `${s}.spec.ts`);

export const suitesDir = join(repoRoot, 'suites');

/** A spec that disrupts the cluster: vitest.config.ts runs it in its own project, after every other spec. */
export const isDisruptive = (file: string): boolean => file.endsWith('.disruptive.spec.ts');

/** Sorted by name, the disruptive ones last (the order they run in). */
const runOrder = (files: string[]): string[] =>
  [...files].sort((a, b) => Number(isDisruptive(a)) - Number(isDisruptive(b)) || a.localeCompare(b));

/** The spec files (e.g. `dns.spec.ts`) of suites/ a preset runs, sorted, the disruptive ones last. */
export function presetSpecs(preset: string, dir = suitesDir): string[] {
  const all = runOrder(readdirSync(dir).filter((f) => f.endsWith('.spec.ts')));
  if (preset === 'full') return all;
  if (preset === 'quick') return all.filter((f) => QUICK.includes(f));
  if (preset === 'none') return [];
  throw new UsageError(
    `unknown preset "${preset}"; choose one of ${PRESETS.join(', ')} (svc-conformance list shows what each runs)`,
  );
}

/** The spec files a run takes, as absolute paths: the preset's of suites/, then every spec of the project's folders. */
export function presetFiles(preset: string, suiteDirs: string[], dir = suitesDir): string[] {
  const ours = presetSpecs(preset, dir).map((f) => join(dir, f));
  if (preset === 'none' && suiteDirs.length === 0) {
    throw new UsageError('--preset none runs only your own specs; name their folder with --suites DIR');
  }
  const theirs = preset === 'quick' ? [] : suiteDirs.flatMap(specFilesBelow);
  return [...ours, ...theirs];
}

/** The presets a spec file belongs to, for `list`. */
export function presetsOf(file: string): Preset[] {
  if (!file.startsWith(`${suitesDir}/`)) return ['full', 'none'];
  const name = file.slice(suitesDir.length + 1);
  return PRESETS.filter((p) => p === 'full' || (p === 'quick' && QUICK.includes(name)));
}

/** Every *.spec.ts below `dir`, sorted, the disruptive ones last. */
export function specFilesBelow(dir: string): string[] {
  return runOrder(
    readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.spec.ts') && !f.split('/').includes('node_modules'),
    ),
  ).map((f) => join(dir, f));
}
