// suites/external-name.spec.ts — beyond the guide: ExternalName
// Proves: an ExternalName Service `hostnames-alias` pointing at hostnames.<ns>.svc.<domain> (an in-cluster
// name: never an outside host) answers a CNAME to it, resolves through it to the hostnames ClusterIP, and
// an HTTP client that dials the alias reaches the backends.
// A failure usually means: CoreDNS's kubernetes plugin does not serve ExternalName records.
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import { createExternalName } from '../helpers/workloads/external-name.js';
import { deployHostnames, type Hostnames } from '../helpers/workloads/hostnames.js';

const ALIAS = 'hostnames-alias';

describe('Beyond the guide: ExternalName', () => {
  const cluster = useCluster();
  const ns = useNamespace('extname');
  useDiagnosis(ns, 'hostnames');
  let app: Hostnames, client: ClientPod, target: string;

  beforeAll(async () => {
    [app, client] = await Promise.all([deployHostnames(cluster, ns), startClientPod(cluster, ns)]);
    target = `${app.name}.${ns}.svc.${cluster.domain}`;
    await createExternalName(cluster, ns, ALIAS, target);
  });

  it('answers a CNAME to the in-cluster target name', async () => {
    const result = await client.resolve(ALIAS, { cname: true });
    expect(
      result.cname,
      because('externalName', `CNAME of "${ALIAS}" from pod ${client.name}: ${result.outcome} ${result.error ?? ''}`),
    ).toBe(`${target}.`);
  });

  it("resolves through the CNAME to the target Service's ClusterIP", async () => {
    const result = await client.resolve(ALIAS);
    expect(
      result.addrs,
      because('externalName', `"${ALIAS}" → ${target}: ${result.outcome} ${result.error ?? ''}`),
    ).toEqual([app.clusterIP]);
  });

  it('carries HTTP through the alias to the backends', async () => {
    const url = `http://${ALIAS}:${app.port}/`;
    const tally = await client.http(url, { count: 6 });
    expect(
      tally.ok,
      because(
        'externalName',
        `${url}: ${tally.ok}/6 answered (${JSON.stringify(tally.errors)} ${tally.sampleError ?? ''})`,
      ),
    ).toBe(6);
    const backends = (await app.backendsNow()).map((p) => p.name);
    expect(
      Object.keys(tally.answers).every((a) => backends.includes(a)),
      because('externalName', `answers ${JSON.stringify(tally.answers)}`),
    ).toBe(true);
  });
});
