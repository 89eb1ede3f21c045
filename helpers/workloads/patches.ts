// Patches a user names for the objects the workload helpers make (SVC_WORKLOAD_PATCH: a YAML
// or JSON list of { kind, name, patch }, each patch a JSON Patch, RFC 6902), applied before the
// object is created. For clusters whose test pods need a toleration, an annotation or a runtime
// class; the self-test injects its workload faults the same way.
import { readFileSync } from 'node:fs';
import type * as k8s from '@kubernetes/client-node';
import jsonPatch, { type Operation } from 'fast-json-patch';
import { parse } from 'yaml';
import { UsageError } from '../errors.js';

export interface WorkloadPatch {
  kind: string;
  name: string;
  patch: Operation[];
}

const loaded = new Map<string, WorkloadPatch[]>();

/** The patches in `file` (read once per process), or none when no file is named. */
export function workloadPatches(file: string | undefined): WorkloadPatch[] {
  if (!file) return [];
  if (!loaded.has(file)) loaded.set(file, readPatches(file));
  return loaded.get(file)!;
}

function readPatches(file: string): WorkloadPatch[] {
  let list: unknown;
  try {
    list = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(
      `workload patch file ${file} cannot be read (${(error as Error).message.split('\n')[0]}); fix SVC_WORKLOAD_PATCH`,
    );
  }
  const valid = (p: Partial<WorkloadPatch>) =>
    typeof p?.kind === 'string' && typeof p.name === 'string' && Array.isArray(p.patch) && !jsonPatch.validate(p.patch);
  if (!Array.isArray(list) || !list.every(valid)) {
    throw new UsageError(
      `workload patch file ${file} must be a list of { kind, name, patch: [JSON Patch operations] }; fix SVC_WORKLOAD_PATCH`,
    );
  }
  return list as WorkloadPatch[];
}

/** `object` with every patch for its kind and name applied, in order (the object itself is left as it was). */
export function patched<T extends k8s.KubernetesObject>(object: T, patches: WorkloadPatch[]): T {
  return patches
    .filter((p) => p.kind === object.kind && p.name === object.metadata?.name)
    .reduce((current, p) => jsonPatch.applyPatch(current, p.patch, true, false).newDocument, object);
}
