// Labels every object of a run carries, so the Service and its pods belong together and
// cleanup finds them.
import { RUN_ID_LABEL } from '../cluster/run-id.js';

export function runLabels(runId: string, extra: Record<string, string> = {}): Record<string, string> {
  return { [RUN_ID_LABEL]: runId, ...extra };
}
