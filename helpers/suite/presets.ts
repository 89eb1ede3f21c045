// Presets name which spec files a run takes: `quick` is the guide's first five questions
// (a fast smoke test on a warm cluster), `full` every spec in suites/, including specs
// added later, since it is read from the directory.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../config.js';
import { UsageError } from '../errors.js';

export const PRESETS = ['quick', 'full'] as const;
export type Preset = (typeof PRESETS)[number];
export const DEFAULT_PRESET: Preset = 'full';

/** The quick preset's specs, in guide order: pods answer, the Service exists, DNS, ClusterIP, Endpoints. */
const QUICK = ['setup', 'service-exists', 'dns', 'clusterip', 'endpoints'].map((s) => `${s}.spec.ts`);

export const suitesDir = join(repoRoot, 'suites');

/** The spec file names (e.g. `dns.spec.ts`) a preset runs, sorted. */
export function presetSpecs(preset: string, dir = suitesDir): string[] {
  const all = readdirSync(dir)
    .filter((f) => f.endsWith('.spec.ts'))
    .sort();
  if (preset === 'full') return all;
  if (preset === 'quick') return all.filter((f) => QUICK.includes(f));
  throw new UsageError(
    `unknown preset "${preset}"; choose one of ${PRESETS.join(', ')} (svc-conformance list shows what each runs)`,
  );
}

/** The presets a spec file belongs to, for `list`. */
export function presetsOf(file: string): Preset[] {
  return PRESETS.filter((p) => p === 'full' || QUICK.includes(file));
}
