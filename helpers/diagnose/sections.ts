// Sections beyond the guide's own: a project names its checks' section and the next step a
// reader should take when one fails, and may give the diagnosis more to look at (an evidence
// collector) and a rule of its own (a verdict). Failures in that section then read
// `[their section] what was seen → next: their step`, like the guide's.
import type { Cluster } from '../cluster/cluster.js';
import type { Evidence } from './evidence.js';
import { GUIDE } from './guide.js';

export interface SectionOptions {
  /** The next step when a check of this section fails. */
  next: string;
  /**
   * More evidence for the diagnostics file of a failed spec of this section, one line per fact
   * (e.g. the CNI's own view of the Service), collected for each Service the spec diagnoses.
   */
  evidence?: (cluster: Cluster, service: { namespace: string; name: string }) => Promise<string[]>;
  /** This section's own rule: the cause the evidence shows (its lines included), or undefined to leave it to the guide. */
  verdict?: (evidence: Evidence, lines: string[]) => string | undefined;
}

export interface Section extends SectionOptions {
  readonly title: string;
}

/** A section defined twice, or named like one of the guide's: bad input, one line. */
export class SectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SectionError';
  }
}

// The sections of the spec files a worker has loaded. A worker keeps its modules from one spec
// file to the next, so a module that defines sections runs once per worker: a second definition
// of a title is a second call, in another place.
const defined = new Map<string, Section>();

export function section(title: string, options: SectionOptions): Section {
  if (Object.values(GUIDE).some((s) => s.section === title)) {
    throw new SectionError(`section "${title}" is one of the guide's; give your section another title`);
  }
  if (defined.has(title)) {
    throw new SectionError(
      `section "${title}" is defined twice; define it once (in a module your specs import) and import it`,
    );
  }
  const made: Section = { title, ...options };
  defined.set(title, made);
  return made;
}

/** The section defined with this title, if any. */
export function definedSection(title: string | undefined): Section | undefined {
  return title === undefined ? undefined : defined.get(title);
}
