// `svc-conformance list`: every spec file and check with the section it covers and the presets
// that run it. Check names are vitest's own (collected, so a title built from a template is
// listed as it runs); what a spec proves is read from its header comment.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { repoRoot } from '../config.js';
import { isDisruptive, presetsOf, type Preset } from './presets.js';
import type { CollectedCheck } from './selection.js';

export interface SpecEntry {
  file: string;
  section: string;
  proves: string;
  /** Each check's name below its section. */
  checks: string[];
  presets: Preset[];
  /** It restarts or flushes parts of the cluster: run after every other spec, alone. */
  disruptive: boolean;
}

export function listSpecs(files: string[], collected: CollectedCheck[]): SpecEntry[] {
  return files.map((file) => {
    const checks = collected.filter((c) => c.file === file);
    const header = readFileSync(file, 'utf8').split('\n').slice(0, 6);
    const start = header.findIndex((l) => l.startsWith('// Proves:'));
    const end = header.findIndex((l) => l.startsWith('// A failure'));
    const proves =
      start < 0
        ? ''
        : header
            .slice(start, end < 0 ? start + 1 : end)
            .map((l) => l.replace(/^\/\/ (Proves: )?/, ''))
            .join(' ');
    return {
      file: file.startsWith(`${repoRoot}/suites/`) ? relative(`${repoRoot}/suites`, file) : file,
      section: checks[0]?.path.length > 1 ? checks[0].path[0] : '',
      proves,
      checks: checks.map((c) => (c.path.length > 1 ? c.path.slice(1) : c.path).join(' ')),
      presets: presetsOf(file),
      disruptive: isDisruptive(file),
    };
  });
}

export function formatSpecList(entries: SpecEntry[]): string {
  return entries
    .map((e) =>
      [
        `${e.file} — ${e.section || '(no describe)'}  [preset: ${e.presets.join(', ')}${e.disruptive ? '; disruptive: runs last, alone' : ''}]`,
        ...(e.proves ? [`  proves: ${e.proves}`] : []),
        ...e.checks.map((c) => `  · ${c}`),
      ].join('\n'),
    )
    .join('\n\n');
}
