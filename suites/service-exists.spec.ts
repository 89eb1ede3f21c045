// suites/service-exists.spec.ts — guide: "Does the Service exist?"
// Proves: the Service is found by name with a ClusterIP, the `kubernetes` Service exists in `default`,
// and asking for a Service that was never created names exactly what is missing.
// A failure usually means: the Service was never created, or created in another namespace.
import { isIP } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { getService } from '../helpers/kube/services.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { deployHostnames } from '../helpers/workloads/hostnames.js';

describe('Does the Service exist?', () => {
  const cluster = useCluster();
  const ns = useNamespace('exists');
  useDiagnosis(ns, 'hostnames');

  beforeAll(async () => {
    // The checks read the Service alone: the guide's Deployment is there, scaled to 0, so that no
    // pod starts only to be deleted a second later with the namespace.
    await deployHostnames(cluster, ns, { waitReady: false, replicas: 0 });
  });

  it('finds Service hostnames by name, with a ClusterIP', async () => {
    const service = await getService(cluster.kube, ns, 'hostnames');
    expect(
      isIP(service.spec?.clusterIP ?? ''),
      because(
        'exists',
        `ClusterIP of ${ns}/hostnames: "${service.spec?.clusterIP ?? ''}" is not an IPv4 or IPv6 address`,
      ),
    ).not.toBe(0);
  });

  it('finds the kubernetes Service in the default namespace', async () => {
    const service = await getService(cluster.kube, 'default', 'kubernetes');
    expect(service.spec?.ports?.[0]?.port, because('exists', 'port of default/kubernetes')).toBe(443);
  });

  it('names the missing object when a Service does not exist', async () => {
    await expect(getService(cluster.kube, ns, 'hostnamez')).rejects.toThrow(
      `Service ${ns}/hostnamez does not exist (Services in ${ns}: hostnames)`,
    );
  });
});
