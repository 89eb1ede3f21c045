// suites/headless.spec.ts — beyond the guide: headless Services
// Proves: a headless Service (clusterIP: None) over a StatefulSet answers one A record per ready pod, each
// pod's own name (hostname web-N + subdomain web → web-N.web.<ns>.svc.<domain>) resolves to that pod, and a
// pod that fails readiness leaves the A records (asked of a second headless Service, web-fresh, so CoreDNS's
// 30 s cache does not answer for it).
// A failure usually means: CoreDNS does not follow the EndpointSlices (or ignores readiness), or the pods'
// hostname/subdomain does not match the Service.
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { waitFor } from '../helpers/kube/wait.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import {
  deployHeadless,
  FRESH_NAME,
  setUnready,
  waitForNotReadyEndpoint,
  type Headless,
} from '../helpers/workloads/headless.js';

describe('Beyond the guide: headless Services', () => {
  const cluster = useCluster();
  const ns = useNamespace('headless');
  useDiagnosis(ns, 'web');
  let web: Headless, client: ClientPod;
  const ips = () => web.pods.map((p) => p.ip).sort();

  beforeAll(async () => {
    [web, client] = await Promise.all([deployHeadless(cluster, ns), startClientPod(cluster, ns)]);
  });

  it('answers one A record per ready pod for the Service name', async () => {
    const result = await client.resolve(web.name);
    expect(
      [...(result.addrs ?? [])].sort(),
      because(
        'headless',
        `"${web.name}" from pod ${client.name}: ${result.outcome} ${result.error ?? ''}; pods: ${web.pods.map((p) => `${p.name}=${p.ip}`).join(', ')}`,
      ),
    ).toEqual(ips());
  });

  it("resolves each pod's own name (hostname.subdomain) to that pod", async () => {
    for (const pod of web.pods) {
      const fqdn = `${pod.name}.${web.name}.${ns}.svc.${cluster.domain}`;
      const result = await client.resolve(fqdn);
      expect(result.addrs, because('headless', `${fqdn}: ${result.outcome} ${result.error ?? ''}`)).toEqual([pod.ip]);
    }
  });

  it('leaves a pod that fails readiness out of the A records', async () => {
    const [gone, ...rest] = web.pods;
    await setUnready(cluster, ns, gone.name);
    await waitForNotReadyEndpoint(cluster, ns, FRESH_NAME, gone.ip);
    // Asked of a Service name no one asked before, so no cached answer stands in for CoreDNS's view.
    const want = rest.map((p) => p.ip).sort();
    let seen: string[] = [];
    const left = await waitFor(
      `"${FRESH_NAME}" answering without ${gone.name}`,
      cluster.settings.timeouts.serviceSync,
      async () => {
        seen = [...((await client.resolve(FRESH_NAME)).addrs ?? [])].sort();
        return { done: seen.join() === want.join(), seen: seen.join(', '), value: true };
      },
    ).catch(() => false);
    expect(
      left,
      because(
        'headless',
        `${gone.name} (${gone.ip}) is not ready in the EndpointSlices, yet "${FRESH_NAME}" answers ${seen.join(', ')} after ${cluster.settings.timeouts.serviceSync} ms`,
      ),
    ).toBe(true);
  });
});
