// suites/clusterip.spec.ts — guide: "Does the Service work by IP?"
// Proves: requests to ClusterIP:80 from a client pod reach every backend, spread across them.
// A failure usually means: kube-proxy not running or its rules for one endpoint missing; or the pods themselves.
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import { deployHostnames, type Hostnames } from '../helpers/workloads/hostnames.js';
import { groupByPath, pathVerdict } from '../helpers/workloads/node-paths.js';
import { describeDistribution, roundRobin } from '../helpers/workloads/round-robin.js';
import { hostPort } from '../helpers/address.js';

describe('Does the Service work by IP?', () => {
  const cluster = useCluster();
  const ns = useNamespace('clusterip');
  useDiagnosis(ns, 'hostnames');
  let app: Hostnames, client: ClientPod;

  beforeAll(async () => {
    [app, client] = await Promise.all([
      deployHostnames(cluster, ns),
      startClientPod(cluster, ns, { node: cluster.nodes[0].name }),
    ]);
  });

  it('answers on ClusterIP:80 from every backend pod', async () => {
    const backends = await app.backendsNow();
    const rr = await roundRobin(
      client,
      `http://${hostPort(app.clusterIP, app.port)}/`,
      backends.map((p) => p.name),
    );
    const seen = describeDistribution(rr);
    const verdict = pathVerdict(groupByPath(backends, client.node), new Set(rr.missing));
    expect(
      rr.missing,
      because('ip', `${verdict}; through ${hostPort(app.clusterIP, app.port)} from ${client.node}: ${seen}`),
    ).toEqual([]);
    expect(rr.unexpected, because('ip', `answers from pods that are not backends: ${seen}`)).toEqual([]);
  });

  it('spreads requests across the backends (none grossly unbalanced)', async () => {
    const backends = await app.backendsNow();
    const requests = 30 * backends.length;
    const tally = await client.http(`http://${hostPort(app.clusterIP, app.port)}/`, {
      count: requests,
      concurrency: 16,
    });
    const floor = requests / (4 * backends.length); // a fair balancer falls below this with probability < 1e-6
    const counts = backends.map((p) => tally.answers[p.name] ?? 0);
    expect(
      tally.ok,
      because(
        'ip',
        `only ${tally.ok} of ${requests} requests answered (${JSON.stringify(tally.errors)}: ${tally.sampleError})`,
      ),
    ).toBe(requests);
    expect(
      Math.min(...counts),
      because('ip', `distribution ${JSON.stringify(tally.answers)}: a backend got fewer than ${floor}`),
    ).toBeGreaterThanOrEqual(floor);
  });

  it('answers through the Service name too', async () => {
    const tally = await client.http(`http://hostnames/`, { count: 3 });
    expect(tally.ok, because('dns', `http://hostnames/ from the client pod: ${tally.sampleError ?? ''}`)).toBe(3);
    // Its backends answer, not whatever else the name might reach.
    const backends = (await app.backendsNow()).map((p) => p.name);
    expect(
      Object.keys(tally.answers).filter((a) => !backends.includes(a)),
      because('dns', `answers through http://hostnames/ that are not backends: ${JSON.stringify(tally.answers)}`),
    ).toEqual([]);
  });
});
