// A run id names everything one run creates (label svc-conformance.io/run-id), so runs
// never collide and cleanup finds exactly its own objects.
import { randomBytes } from 'node:crypto';

export const RUN_ID_LABEL = 'svc-conformance.io/run-id';
export const CREATED_AT_ANNOTATION = 'svc-conformance.io/created-at';

export function newRunId(): string {
  return `r${Date.now().toString(36).slice(-5)}${randomBytes(2).toString('hex')}`;
}
