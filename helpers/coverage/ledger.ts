// The ledger: for each upstream sig-network e2e test of the pinned minor, what our checks do about
// it (coverage/upstream-v<minor>.yaml, checked in). `covered`: our checks assert what upstream's test
// asserts; `partial`: they assert part of it, and `missing` says what not; `not ours`: a reason in one
// line; `todo`: the family (and so the issue) it belongs to. Checks are named by their full vitest
// names, as `svc-conformance list` shows them on the default cluster (one node, named svc).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot, versions } from '../config.js';
import { FAMILIES, LOCAL_RUN_FAMILIES, type FamilyId } from './families.js';
import type { UpstreamOutcome } from './ginkgo-junit.js';
import { ledgerName, type UpstreamTest } from './upstream-tests.js';

export const STATUSES = ['covered', 'partial', 'not ours', 'todo'] as const;
export type Status = (typeof STATUSES)[number];

export interface LedgerEntry {
  /** The upstream file in test/e2e/network. */
  file: string;
  /** The upstream title without "[sig-network] ". */
  test: string;
  status: Status;
  /** Every status but `not ours`. */
  family?: FamilyId;
  /** Our checks (covered, partial), by full vitest name. */
  checks?: string[];
  /** What upstream asserts that ours do not (partial). */
  missing?: string;
  /** Why it is not ours (not ours). */
  reason?: string;
  /** What upstream's test asserts, in a line (the families the issues are about). */
  asserts?: string;
  /** How upstream's own test fared on a local cluster (LOCAL_RUN_FAMILIES; npm run conformance -- --families --record). */
  localCluster?: LocalRun;
}

/** The kube-proxy modes upstream's tests run in on the local cluster. */
export const LOCAL_RUN_MODES = ['iptables', 'nftables'] as const;
export type LocalRunMode = (typeof LOCAL_RUN_MODES)[number];

/** Upstream's test on a local cluster, per kube-proxy mode; `reason` says why it did not pass, in a line. */
export type LocalRun = Partial<Record<LocalRunMode, UpstreamOutcome>> & { reason?: string };

/** The checked-in ledger of the pinned minor. */
export const ledgerFile = (kubernetes = versions.kubernetes) =>
  join(repoRoot, 'coverage', `upstream-${kubernetes.replace(/^(v\d+\.\d+).*/, '$1')}.yaml`);

/** The ledger's entries, file by file as written: `{ file.go: [{ test, status, ... }] }`. */
export function readLedger(file = ledgerFile()): LedgerEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(
      `no ledger for Kubernetes ${versions.kubernetes} at ${file}: copy the previous minor's and update it`,
      {
        cause: error,
      },
    );
  }
  const byFile = (parse(text) ?? {}) as Record<string, Omit<LedgerEntry, 'file'>[]>;
  return Object.entries(byFile).flatMap(([upstreamFile, entries]) =>
    (entries ?? []).map((entry) => ({ file: upstreamFile, ...entry })),
  );
}

/**
 * What is wrong with the ledger, one line each: upstream tests it leaves out, tests it names that
 * upstream does not have (or in another file), entries without what their status needs, and checks
 * that are not among the collected names.
 */
export function ledgerProblems(entries: LedgerEntry[], upstream: UpstreamTest[], checkNames: string[]): string[] {
  const problems: string[] = [];
  const key = (file: string, test: string) => `${file}: ${test}`;
  const upstreamKeys = new Set(upstream.map((t) => key(t.file, ledgerName(t))));
  const seen = new Set<string>();
  for (const entry of entries) {
    const where = key(entry.file, entry.test);
    if (seen.has(where)) problems.push(`${where}: in the ledger twice`);
    seen.add(where);
    if (!upstreamKeys.has(where)) problems.push(`${where}: not an upstream test at ${versions.kubernetes}`);
    problems.push(...entryProblems(entry, new Set(checkNames)).map((p) => `${where}: ${p}`));
  }
  for (const test of upstream) {
    const where = key(test.file, ledgerName(test));
    if (!seen.has(where)) problems.push(`${where} (line ${test.line}): upstream test missing from the ledger`);
  }
  return problems;
}

function entryProblems(entry: LedgerEntry, names: Set<string>): string[] {
  const problems: string[] = [];
  if (!STATUSES.includes(entry.status)) return [`status "${entry.status}" is none of ${STATUSES.join(', ')}`];
  const needs = (field: keyof LedgerEntry, ok: boolean) => ok || problems.push(`${entry.status} needs ${field}`);
  const has = (field: keyof LedgerEntry) => entry[field] !== undefined && entry[field] !== '';
  if (entry.status === 'not ours') {
    needs('reason', has('reason'));
    if (has('family') || has('checks')) problems.push('not ours takes only a reason');
  } else {
    needs('family', has('family'));
    if (has('family') && !(entry.family! in FAMILIES)) problems.push(`family "${entry.family}" is not one of FAMILIES`);
  }
  if (entry.status === 'covered' || entry.status === 'partial') needs('checks', (entry.checks ?? []).length > 0);
  else if (has('checks')) problems.push(`${entry.status} names no checks`);
  if (entry.status === 'partial') needs('missing', has('missing'));
  for (const check of entry.checks ?? [])
    if (!names.has(check)) problems.push(`no check named "${check}" (svc-conformance list shows every name)`);
  problems.push(...localRunProblems(entry));
  return problems;
}

/** The families run on the local cluster record each mode's outcome, and a reason when one did not pass. */
function localRunProblems({ family, localCluster }: LedgerEntry): string[] {
  if (!family || !LOCAL_RUN_FAMILIES.includes(family))
    return localCluster ? [`localCluster is recorded only for ${LOCAL_RUN_FAMILIES.join(', ')}`] : [];
  const run = localCluster ?? {};
  const problems = LOCAL_RUN_MODES.filter((mode) => !['passed', 'failed', 'skipped'].includes(run[mode] ?? '')).map(
    (mode) =>
      `localCluster.${mode} is ${run[mode] === undefined ? 'missing' : `"${run[mode]}"`}: passed, failed or skipped, as npm run conformance -- --families --record writes it`,
  );
  const allPassed = LOCAL_RUN_MODES.every((mode) => run[mode] === 'passed');
  if (!allPassed && !run.reason) problems.push('localCluster needs a reason: why it failed or was skipped');
  if (allPassed && run.reason) problems.push('localCluster has a reason, but it passed in every mode');
  return problems;
}
