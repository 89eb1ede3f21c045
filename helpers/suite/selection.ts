// Which checks a run takes: a preset names the spec files, --focus/--skip filter the checks by
// name (vitest -t) as vitest itself names them (collected before any cluster exists, so a
// filter that leaves nothing to run ends with exit 2 instead of an empty, green run).
import { UsageError } from '../errors.js';

/** One check as vitest collected it: its file and its full name ("<describe> <check>"). */
export interface CollectedCheck {
  file: string;
  /** The describe titles and the check's own title, outermost first. */
  path: string[];
}

export const fullName = (check: CollectedCheck) => check.path.join(' ');

export interface Selection {
  /** vitest arguments: the spec files, then the -t filter if any. */
  vitestArgs: string[];
  /** How many checks the filter keeps. */
  checks: number;
}

export function selectChecks(
  o: { preset: string; focus?: string; skip?: string },
  files: string[],
  collected: CollectedCheck[],
): Selection {
  const filter = testNameFilter(o.focus, o.skip);
  const names = filter.length ? new RegExp(filter[1]) : undefined;
  const keeps = (check: CollectedCheck) => files.includes(check.file) && (!names || names.test(fullName(check)));
  const kept = collected.filter(keeps);
  if (kept.length === 0) {
    const what = [o.focus !== undefined && `--focus "${o.focus}"`, o.skip !== undefined && `--skip "${o.skip}"`]
      .filter(Boolean)
      .join(' with ');
    throw new UsageError(
      `${what || 'the filter'} leaves no check to run in preset ${o.preset}; svc-conformance list shows every check's name`,
    );
  }
  // Only the files with a kept check: vitest need not load (and collect) the others.
  const needed = files.filter((file) => kept.some((check) => check.file === file));
  return { vitestArgs: [...needed, ...filter], checks: kept.length };
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
