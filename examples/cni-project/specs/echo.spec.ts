// specs/echo.spec.ts — CNI project: echo Service
// Proves: a workload of this project's own (agnhost netexec on 8080 behind Service echo, 80 → 8080) echoes
// what a client pod sends through the Service's name, and answers from every backend.
// A failure usually means: the Service's targetPort or the pods' port changed, or the CNI drops the traffic.
import {
  beforeAll,
  because,
  describe,
  expect,
  it,
  RESTRICTED_CONTAINER,
  RESTRICTED_POD,
  runLabels,
  startClientPod,
  useCluster,
  useDiagnosis,
  useNamespace,
  waitForService,
  type BackendPod,
  type ClientPod,
  type k8s,
} from 'svc-conformance';
import { echoSection } from './sections.js';

const ECHO_PORT = 8080;

describe(echoSection.title, () => {
  const cluster = useCluster();
  const ns = useNamespace('echo');
  useDiagnosis(ns, 'echo');
  let client: ClientPod;
  let backends: BackendPod[];

  beforeAll(async () => {
    const labels = runLabels(cluster.runId, { app: 'echo' });
    const deployment: k8s.V1Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'echo', namespace: ns, labels },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'echo' } },
        template: {
          metadata: { labels },
          spec: {
            securityContext: RESTRICTED_POD,
            containers: [
              {
                name: 'echo',
                image: cluster.settings.images.agnhost,
                args: ['netexec', `--http-port=${ECHO_PORT}`, '--udp-port=-1'],
                ports: [{ name: 'http', containerPort: ECHO_PORT }],
                readinessProbe: { tcpSocket: { port: ECHO_PORT }, periodSeconds: 1 },
                securityContext: RESTRICTED_CONTAINER,
              },
            ],
          },
        },
      },
    };
    const service: k8s.V1Service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'echo', namespace: ns, labels },
      spec: { selector: { app: 'echo' }, ports: [{ port: 80, targetPort: ECHO_PORT }] },
    };
    await cluster.kube.apply<k8s.KubernetesObject>(deployment, service);
    [backends, client] = await Promise.all([waitForService(cluster, ns, 'echo', 2), startClientPod(cluster, ns)]);
  });

  it('echoes a message through the Service name', async () => {
    const tally = await client.http('http://echo/echo?msg=hello', { count: 3 });
    expect(
      tally.answers,
      because(echoSection, `http://echo/echo?msg=hello from ${client.name}: ${tally.sampleError ?? 'no error'}`),
    ).toEqual({ hello: 3 });
  });

  it('answers from every backend', async () => {
    const tally = await client.http('http://echo/hostname', { count: 20, concurrency: 10 });
    expect(
      Object.keys(tally.answers).sort(),
      because(echoSection, `echo's backends seen: ${JSON.stringify(tally.answers)}`),
    ).toEqual(backends.map((b) => b.name).sort());
  });
});
