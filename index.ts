// svc-conformance as a framework: what a project's own specs import (`from 'svc-conformance'`).
// Everything here is documented in docs/API.md; what is not exported here may change without
// notice. The specs run inside `svc-conformance run --suites DIR`, which makes or attaches to
// the cluster, so the test functions come from here too (the same vitest that runs them).

// Writing a spec: vitest's test functions, and what a spec stands on.
export { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, test } from 'vitest';
export { useCluster, useNamespace, skipAllWith, type Cluster } from './helpers/suite/fixtures.js';
export { useDiagnosis } from './helpers/suite/diagnosis.js';

// Sections, failure messages and verdicts.
export { because, GUIDE, type GuideSection } from './helpers/diagnose/guide.js';
export { section, type Section, type SectionOptions } from './helpers/diagnose/sections.js';
export type { Evidence, NodeEvidence } from './helpers/diagnose/evidence.js';

// Workloads: the guide's hostnames, client pods, waits for backends.
export {
  addService,
  deployHostnames,
  hostnamesObjects,
  HOSTNAMES_PORT,
  netexecArgs,
  SERVICE_PORT,
  type ExtraService,
  type Hostnames,
  type HostnamesOptions,
} from './helpers/workloads/hostnames.js';
export { readyBackendsNow, waitForReadyBackends, type BackendPod } from './helpers/workloads/backends.js';
export { waitForService } from './helpers/workloads/programmed.js';
export { ClientPod, startClientPod, type ClientPodOptions } from './helpers/workloads/client-pod.js';
export { describeDistribution, roundRobin, type RoundRobin } from './helpers/workloads/round-robin.js';
export { runLabels } from './helpers/workloads/labels.js';
export { RESTRICTED_CONTAINER, RESTRICTED_POD } from './helpers/workloads/security.js';

// The nodes: commands, probes, kube-proxy's rules and health.
export { nodeAccessSkipReason, runOnNode, skipWithoutNodeAccess } from './helpers/node/run-on-node.js';
export { nodeDial, nodeHttp, nodeLookup } from './helpers/node/node-probe.js';
export {
  iptablesRulesOnNode,
  nftRulesOnNode,
  programmedDestinations,
  programmedFrontends,
} from './helpers/node/proxy-rules.js';
export { kubeProxyStatus, type KubeProxyStatus } from './helpers/node/kube-proxy.js';
export { externalHttp, externalSkipReason } from './helpers/node/external-client.js';

// The Kubernetes API, waits and addresses.
export { waitFor, WaitTimeoutError, type Observation } from './helpers/kube/wait.js';
export { execInPod, type PodRef } from './helpers/kube/exec.js';
export { describePod, isPodReady } from './helpers/kube/pods.js';
export { endpointSliceAddresses, endpointsOf, getService, type EndpointAddress } from './helpers/kube/services.js';
export { hostOf, hostPort } from './helpers/address.js';
export type { ClusterHandle, NodeInfo } from './helpers/cluster/provider.js';
export type { ExecResult } from './helpers/host/run.js';
export type * as k8s from '@kubernetes/client-node';
export type { DialResult, FlowResult, LookupResult, Tally } from './helpers/parse/svcprobe.js';

/** svc-conformance.config.ts in a project: where its specs are (folders, relative to the file). */
export interface SvcConformanceConfig {
  suites: string[];
}
