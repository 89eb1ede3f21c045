// `diagnose NS/SVC` on a Service of a user's own (made here with plain objects, as a user
// would): healthy, it reports the path matrix and the nodes' settings as passed; with Docker's
// FORWARD policy DROP on the node, it names the node, the hop and the setting, and exits 1.
// Either way it leaves nothing of its own behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../helpers/host/run.js';
import { Kube } from '../helpers/kube/client.js';
import { readSettings } from '../helpers/settings.js';
import { cliEnv, keptCluster, KEPT, runCli } from './cli.js';
import { leftAfterRun } from './leftovers.js';

const NS = 'diag-user';
let kubeconfig: string;

beforeAll(async () => {
  kubeconfig = await keptCluster();
  const kube = new Kube(kubeconfig);
  const image = readSettings().images.agnhost;
  const labels = { app: 'hostnames' };
  await kube.apply(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'hostnames', namespace: NS },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: 'hostnames',
                image,
                imagePullPolicy: 'Never',
                args: ['serve-hostname'],
                ports: [{ containerPort: 9376 }],
                readinessProbe: { tcpSocket: { port: 9376 }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'hostnames', namespace: NS },
      spec: { selector: labels, ports: [{ port: 80, targetPort: 9376 }] },
    },
  );
  for (const until = Date.now() + 60_000; Date.now() < until; await new Promise((r) => setTimeout(r, 500))) {
    const d = await kube.apps.readNamespacedDeployment({ namespace: NS, name: 'hostnames' });
    if (d.status?.readyReplicas === 2) return;
  }
  throw new Error('the user Service hostnames never got 2 ready pods');
}, 120_000);

afterAll(() => new Kube(kubeconfig).deleteIfPresent({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }));

describe('diagnose NAMESPACE/SERVICE', () => {
  it('healthy: every hop from every node answers, exit 0, nothing left', async () => {
    const r = await runCli(
      ['diagnose', `${NS}/hostnames`, '--kubeconfig', kubeconfig, '--run-id', 'rdiag1'],
      cliEnv(KEPT),
    );
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/✓ pod IPs from every node +\d+\/\d+ answered \(pods and nodes on clit-node-1\)/);
    expect(r.stdout).toMatch(/✓ ClusterIP from every node/);
    expect(r.stdout).toMatch(/✓ nodes' network settings +forwarding on, no foreign drop or reject/);
    expect(r.stdout).toMatch(/healthy: every check passed/);
    expect(await leftAfterRun(kubeconfig, 'rdiag1')).toEqual([]);
  }, 120_000);

  it("with Docker's FORWARD policy DROP on the node: names the node, the hop and the setting, exit 1", async () => {
    const netns = `svc-${KEPT.name}-n1`;
    await run('ip', ['netns', 'exec', netns, 'iptables', '-P', 'FORWARD', 'DROP']);
    let r;
    try {
      r = await runCli(['diagnose', `${NS}/hostnames`, '--kubeconfig', kubeconfig, '--run-id', 'rdiag2'], cliEnv(KEPT));
    } finally {
      await run('ip', ['netns', 'exec', netns, 'iptables', '-P', 'FORWARD', 'ACCEPT']);
    }
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(1);
    expect(r.stdout).toMatch(
      /✗ pod IPs from every node +pods on clit-node-1 reach 0\/\d+ on clit-node-1; clit-node-1 itself reaches \d+\/\d+ of its own/,
    );
    expect(r.stdout).toMatch(/✗ nodes' network settings +iptables filter FORWARD on clit-node-1: policy drop/);
    expect(r.stdout).toContain(
      "root cause: verdict [Beyond the guide: the nodes' network]: clit-node-1 drops the pod traffic it forwards: iptables filter FORWARD on clit-node-1: policy drop",
    );
    expect(r.stdout).not.toMatch(/root cause: .*CoreDNS/);
    expect(await leftAfterRun(kubeconfig, 'rdiag2')).toEqual([]);
  }, 180_000);
});
