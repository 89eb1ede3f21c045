// Which checks a run takes: a preset names the spec files, --focus/--skip filter the checks
// by name (vitest -t). Worked out from the spec files before any cluster exists, so a
// filter that leaves nothing to run ends with exit 2 instead of an empty, green run.
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { listSpecs } from './spec-list.js';
import { DEFAULT_PRESET, presetSpecs, suitesDir } from './presets.js';

export interface Selection {
  /** vitest arguments: the spec files, then the -t filter if any. */
  vitestArgs: string[];
  /** How many checks the filter keeps (template titles count by their source text). */
  checks: number;
}

export function selectChecks(o: { preset?: string; focus?: string; skip?: string }, dir = suitesDir): Selection {
  const preset = o.preset ?? DEFAULT_PRESET;
  const files = presetSpecs(preset, dir);
  const filter = testNameFilter(o.focus, o.skip);
  const keeps = (n: string) => !filter.length || new RegExp(filter[1]).test(n);
  const specs = listSpecs(dir).filter((s) => files.includes(s.file));
  const kept = specs.flatMap((s) => s.fullNames).filter(keeps);
  if (kept.length === 0) {
    const what = [o.focus !== undefined && `--focus "${o.focus}"`, o.skip !== undefined && `--skip "${o.skip}"`]
      .filter(Boolean)
      .join(' with ');
    throw new UsageError(
      `${what || 'the filter'} leaves no check to run in preset ${preset}; svc-conformance list shows every check's name`,
    );
  }
  // Only the files with a kept check: vitest need not load (and collect) the others.
  const needed = specs.filter((s) => s.fullNames.some(keeps)).map((s) => s.file);
  return { vitestArgs: [...needed.map((f) => join(dir, f)), ...filter], checks: kept.length };
}

/**
 * vitest's -t takes one pattern, matched against each check's full name ("section check");
 * --focus and --skip become one regex: names matching FOCUS and not matching SKIP.
 */
export function testNameFilter(focus?: string, skip?: string): string[] {
  for (const [flag, re] of [
    ['--focus', focus],
    ['--skip', skip],
  ] as const) {
    if (re === undefined) continue;
    try {
      new RegExp(re);
    } catch (error) {
      throw new UsageError(
        `${flag} "${re}" is not a valid regular expression (${(error as Error).message.replace(/^.*: /, '')}); fix the pattern: a JavaScript regular expression matched against "<section> <check>"`,
      );
    }
  }
  if (!focus && !skip) return [];
  return ['-t', `^${skip ? `(?!.*(?:${skip}))` : ''}${focus ? `(?=.*(?:${focus}))` : ''}`];
}
