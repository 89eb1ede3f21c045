// suites/service-definition.spec.ts — guide: "Is the Service defined correctly?"
// Proves: port/targetPort/protocol line up with the pods' containerPort (by number and by name),
// and a Service whose targetPort matches no container port is reported as such and does not answer.
// A failure usually means: targetPort or protocol differ from the container's port, or a port name mismatch.
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { serviceDefinitionProblems } from '../helpers/diagnose/service-definition.js';
import { getService, podsSelectedBy } from '../helpers/kube/services.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import {
  addService,
  deployHostnames,
  hostnamesObjects,
  HOSTNAMES_PORT,
  type Hostnames,
} from '../helpers/workloads/hostnames.js';
import { hostPort } from '../helpers/address.js';

describe('Is the Service defined correctly?', () => {
  const cluster = useCluster();
  const ns = useNamespace('definition');
  useDiagnosis(ns, 'hostnames', 'hostnames-named');
  let app: Hostnames, client: ClientPod;

  beforeAll(async () => {
    [app, client] = await Promise.all([deployHostnames(cluster, ns), startClientPod(cluster, ns)]);
  });

  const problemsOf = async (name: string) => {
    const service = await getService(cluster.kube, ns, name);
    return serviceDefinitionProblems(service, (await podsSelectedBy(cluster.kube, service)).selected);
  };

  it(`maps port 80 to the pods' containerPort ${HOSTNAMES_PORT}/TCP`, async () => {
    expect(await problemsOf('hostnames'), because('definition', 'Service hostnames')).toEqual([]);
    expect(app.service.spec?.ports?.[0]).toMatchObject({ port: 80, targetPort: HOSTNAMES_PORT, protocol: 'TCP' });
  });

  it('resolves a named targetPort to the container port of that name', async () => {
    // Waited for like any Service in front of the backends: programmed on every node (or answering, without node access).
    const named = await addService(
      cluster,
      app,
      'hostnames-named',
      (s) => (s.spec!.ports![0].targetPort = 'serve' as never),
    );
    expect(await problemsOf('hostnames-named'), because('definition', 'named targetPort "serve"')).toEqual([]);
    const tally = await client.http(`http://${hostPort(named.clusterIP, named.port)}/`, { count: 6 });
    expect(tally.ok, because('definition', `Service with targetPort "serve": ${tally.sampleError ?? ''}`)).toBe(6);
  });

  it('reports a targetPort that no container port has, and that Service does not answer', async () => {
    const { service } = hostnamesObjects(cluster, ns, {
      name: 'hostnames-wrong',
      tweak: {
        service: (s) => ((s.spec!.selector = { app: 'hostnames' }), (s.spec!.ports![0].targetPort = 9377 as never)),
      },
    });
    const [created] = await cluster.kube.apply(service);
    const problems = await problemsOf('hostnames-wrong');
    expect(problems[0], because('definition', 'the check must flag targetPort 9377')).toContain(
      'no container declares port 9377',
    );
    // Once kube-proxy has its rules, the VIP forwards to pod:9377, where nothing listens.
    const dial = await client.dialUntil(hostPort(created.spec!.clusterIP!, 80), 'refused');
    expect(dial.outcome, because('definition', `a Service pointing at a closed port: ${dial.error ?? ''}`)).toBe(
      'refused',
    );
  });
});
