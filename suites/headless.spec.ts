// suites/headless.spec.ts — beyond the guide: headless Services
// Proves: a headless Service (clusterIP: None) over a StatefulSet answers one A record per ready pod (by every
// partial name and the full one) and one SRV record per ready pod for its named port, each pod's own name (hostname
// web-N + subdomain web → web-N.web.<ns>.svc.<domain>, its hostname -f) resolves to that pod, all over UDP and
// TCP, and a pod that fails readiness leaves the A records (asked of a second headless Service, web-fresh, so
// CoreDNS's 30 s cache does not answer for it).
// The answers are judged against the StatefulSet's own Ready pods (by ownerReferences), not the EndpointSlices
// CoreDNS reads, so wrong slices fail too.
// A failure usually means: CoreDNS does not follow the EndpointSlices (or ignores readiness), the EndpointSlice
// controller lists other pods than the ready ones, or the pods' hostname/subdomain does not match the Service.
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { execInPod } from '../helpers/kube/exec.js';
import { readyPodsOwnedBy } from '../helpers/kube/owned-pods.js';
import { waitFor } from '../helpers/kube/wait.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import { answerLine, eachOverUdpAndTcp, overUdpAndTcp, srvLine } from '../helpers/workloads/dns-answers.js';
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
  /** The StatefulSet's Ready pods now (by ownerReferences, not the EndpointSlices): what the A records must be. */
  const readyPodIPs = async () =>
    (await readyPodsOwnedBy(cluster.kube, ns, { kind: 'StatefulSet', name: web.name }))
      .map((p) => p.status!.podIP!)
      .sort();

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
    ).toEqual(await readyPodIPs());
  });

  it("resolves each pod's own name (hostname.subdomain) to that pod", async () => {
    for (const pod of web.pods) {
      const fqdn = `${pod.name}.${web.name}.${ns}.svc.${cluster.domain}`;
      const result = await client.resolve(fqdn);
      expect(result.addrs, because('headless', `${fqdn}: ${result.outcome} ${result.error ?? ''}`)).toEqual([pod.ip]);
    }
  });

  it('answers one A record per ready pod for the short, namespaced, svc and fully qualified Service names over UDP and over TCP', async () => {
    const names = [web.name, `${web.name}.${ns}`, `${web.name}.${ns}.svc`, `${web.name}.${ns}.svc.${cluster.domain}`];
    const answers = await overUdpAndTcp(client, names, answerLine);
    const ready = (await readyPodIPs()).join(',');
    expect(answers, because('headless', `each name over UDP and TCP from pod ${client.name}`)).toEqual(
      eachOverUdpAndTcp(names, () => ready),
    );
  });

  it("answers one SRV record per ready pod for its named port (_default._tcp, partial and full name) over UDP and over TCP, each naming the pod's own name and its port", async () => {
    const port = (await cluster.kube.core.readNamespacedService({ namespace: ns, name: web.name })).spec!.ports![0];
    const srv = `_${port.name}._${port.protocol!.toLowerCase()}.${web.name}.${ns}.svc`;
    const names = [srv, `${srv}.${cluster.domain}`];
    const answers = await overUdpAndTcp(client, names, srvLine);
    // A headless Service's SRV records name each endpoint (by its hostname) and its own port, the targetPort.
    const ready = new Set(await readyPodIPs());
    const want = web.pods
      .filter((p) => ready.has(p.ip))
      .map((p) => `${p.name}.${web.name}.${ns}.svc.${cluster.domain}.:${String(port.targetPort)}`)
      .sort()
      .join(',');
    expect(answers, because('headless', `SRV of port "${port.name}" over UDP and TCP from pod ${client.name}`)).toEqual(
      eachOverUdpAndTcp(names, () => want),
    );
  });

  it('gives each pod its fully qualified hostname (hostname -f): hostname.subdomain.<namespace>.svc.<domain>', async () => {
    const seen = await Promise.all(
      web.pods.map(async (pod) => {
        const run = await execInPod(cluster.kube, { namespace: ns, name: pod.name }, [
          '/bin/busybox',
          'hostname',
          '-f',
        ]);
        return `${pod.name} ${run.stdout.trim() || run.stderr.trim()}`;
      }),
    );
    expect(seen, because('headless', `hostname -f in the pods of StatefulSet ${web.name}`)).toEqual(
      web.pods.map((pod) => `${pod.name} ${pod.name}.${web.name}.${ns}.svc.${cluster.domain}`),
    );
  });

  it("resolves each pod's own name, partial (hostname.subdomain) and fully qualified, to that pod over UDP and over TCP", async () => {
    const names = web.pods.flatMap((pod) => [
      `${pod.name}.${web.name}`,
      `${pod.name}.${web.name}.${ns}.svc.${cluster.domain}`,
    ]);
    const ipOf = (name: string) => web.pods.find((pod) => name.startsWith(`${pod.name}.`))!.ip;
    expect(
      await overUdpAndTcp(client, names, answerLine),
      because('headless', `each pod's name over UDP and TCP from pod ${client.name}`),
    ).toEqual(eachOverUdpAndTcp(names, ipOf));
  });

  it('leaves a pod that fails readiness out of the A records', async () => {
    const [gone, ...rest] = web.pods;
    await setUnready(cluster, ns, gone.name);
    await waitForNotReadyEndpoint(cluster, ns, FRESH_NAME, gone.ip);
    // Asked of a Service name no one asked before, so no cached answer stands in for CoreDNS's view.
    // The answer is judged against the Ready pods when it is given: another pod that turned
    // unready meanwhile (a probe timing out on a busy node) is rightly left out as well.
    let seen: string[] = [];
    let want: string[] = [];
    const left = await waitFor(
      `"${FRESH_NAME}" answering without ${gone.name}`,
      cluster.settings.timeouts.serviceSync,
      async () => {
        seen = [...((await client.resolve(FRESH_NAME)).addrs ?? [])].sort();
        want = (await readyPodIPs()).filter((ip) => ip !== gone.ip);
        return { done: seen.join() === want.join(), seen: seen.join(', '), value: true };
      },
    ).catch(() => false);
    expect(
      left,
      because(
        'headless',
        `${gone.name} (${gone.ip}) is not ready in the EndpointSlices, yet "${FRESH_NAME}" answers ${seen.join(', ') || 'nothing'} after ${cluster.settings.timeouts.serviceSync} ms (Ready pods of StatefulSet ${web.name} then: ${want.join(', ') || 'none'}; ${rest.length} other pods)`,
      ),
    ).toBe(true);
  });
});
