// Presets name which spec files a run takes: `quick` is the guide's first five questions (a
// fast smoke test on a warm cluster), `full` every spec in suites/ and in a project's own spec
// folders (--suites), including specs added later, since both are read from the directories;
// `none` a project's specs alone.
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

/** The spec files (e.g. `dns.spec.ts`) of suites/ a preset runs, sorted. */
export function presetSpecs(preset: string, dir = suitesDir): string[] {
  const all = readdirSync(dir)
    .filter((f) => f.endsWith('.spec.ts'))
    .sort();
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

/** Every *.spec.ts below `dir`, sorted. */
export function specFilesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.spec.ts') && !f.split('/').includes('node_modules'))
    .sort()
    .map((f) => join(dir, f));
}
