// `svc-conformance list`: every spec and check with the guide section it covers and the
// presets that run it, read from the spec files themselves (header line, describe and it
// titles), so the list never drifts from the code and needs no cluster. The same names
// tell the CLI, before any cluster exists, whether --focus/--skip leave anything to run.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { presetsOf, type Preset } from './presets.js';

export interface SpecEntry {
  file: string;
  section: string;
  proves: string;
  checks: string[];
  /** Each check's name as vitest's -t sees it: its describe title, a space, its own title. */
  fullNames: string[];
  presets: Preset[];
}

/** `it(`, `it.skipIf(...)(`, `describe.skipIf(f(g()))(`: the call, then its quoted title. */
const CALL_ARGS = String.raw`(?:\.skipIf\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\))?\(\s*(['"\x60])((?:\\.|(?!\2).)*)\2`;
const TITLE = new RegExp(String.raw`\b(it|test|describe)${CALL_ARGS}`, 'g');

export function listSpecs(suitesDir: string): SpecEntry[] {
  return readdirSync(suitesDir)
    .filter((f) => f.endsWith('.spec.ts'))
    .sort()
    .map((file) => {
      const text = readFileSync(join(suitesDir, file), 'utf8');
      const header = text.split('\n').slice(0, 6);
      const section = /guide: (.*)$/.exec(header[0])?.[1] ?? /— (.*)$/.exec(header[0])?.[1] ?? file;
      const start = header.findIndex((l) => l.startsWith('// Proves:'));
      const end = header.findIndex((l) => l.startsWith('// A failure'));
      const proves =
        start < 0
          ? ''
          : header
              .slice(start, end < 0 ? start + 1 : end)
              .map((l) => l.replace(/^\/\/ (Proves: )?/, ''))
              .join(' ');
      const checks: string[] = [];
      const fullNames: string[] = [];
      let suite = '';
      for (const [, call, , title] of text.matchAll(TITLE)) {
        if (call === 'describe') suite = title;
        else {
          checks.push(title);
          fullNames.push(suite ? `${suite} ${title}` : title);
        }
      }
      return { file, section, proves, checks, fullNames, presets: presetsOf(file) };
    });
}

export function formatSpecList(entries: SpecEntry[]): string {
  return entries
    .map((e) =>
      [
        `${e.file} — ${e.section}  [preset: ${e.presets.join(', ')}]`,
        `  proves: ${e.proves}`,
        ...e.checks.map((c) => `  · ${c}`),
      ].join('\n'),
    )
    .join('\n\n');
}
