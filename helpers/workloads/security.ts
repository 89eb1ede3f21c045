// Every pod a run makes passes Pod Security "restricted" (non-root, no privilege escalation,
// no capabilities, seccomp RuntimeDefault), as every namespace a run makes enforces it
// (cluster/cluster.ts): the suites run in a team's locked-down cluster as they run here.
import type * as k8s from '@kubernetes/client-node';

/** uid/gid 65534 (nobody): present in the suites' images, and above any system range. */
export const RESTRICTED_POD: k8s.V1PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: 65534,
  runAsGroup: 65534,
  seccompProfile: { type: 'RuntimeDefault' },
};

export const RESTRICTED_CONTAINER: k8s.V1SecurityContext = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
};
