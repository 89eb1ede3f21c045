// `svc-conformance list`: every spec and check with the guide section it covers, read
// from the spec files themselves (header line, describe and it titles), so the list never
// drifts from the code and needs no cluster.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SpecEntry {
  file: string;
  section: string;
  proves: string;
  checks: string[];
}

const TITLE = /\b(?:it|test)(?:\.skipIf\((?:[^()]|\([^()]*\))*\))?\(\s*(['"`])((?:\\.|(?!\1).)*)\1/g;

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
      const proves = start < 0 ? '' : header.slice(start, end < 0 ? start + 1 : end).map((l) => l.replace(/^\/\/ (Proves: )?/, '')).join(' ');
      const checks = [...text.matchAll(TITLE)].map((m) => m[2]);
      return { file, section, proves, checks };
    });
}

export function formatSpecList(entries: SpecEntry[]): string {
  return entries
    .map((e) => [`${e.file} — ${e.section}`, `  proves: ${e.proves}`, ...e.checks.map((c) => `  · ${c}`)].join('\n'))
    .join('\n\n');
}
