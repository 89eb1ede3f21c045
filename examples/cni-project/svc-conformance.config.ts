// Where this project's specs are: `svc-conformance run` and `list` run from this folder pick them up.
import type { SvcConformanceConfig } from 'svc-conformance';

export default { suites: ['specs'] } satisfies SvcConformanceConfig;
