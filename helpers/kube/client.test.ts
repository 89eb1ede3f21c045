import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { Kube } from './client.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const kubeconfig = (cert: string) => `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: 'https://127.0.0.1:6443', certificate-authority-data: ${b64('ca')} } }]
users: [{ name: u, user: { client-certificate-data: ${b64(cert)}, client-key-data: ${b64('key')} } }]
contexts: [{ name: c, context: { cluster: c, user: u } }]
current-context: c
`;

describe('Kube requests', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svc-kube-client-'));
  const agentOf = async (kube: Kube) => {
    const context = new k8s.RequestContext('https://127.0.0.1:6443/api/v1/namespaces', k8s.HttpMethod.GET);
    await kube.config.applySecurityAuthentication(context);
    return context.getAgent() as Agent;
  };

  it('share one kept-alive agent with the kubeconfig TLS options, made again when those change', async () => {
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, kubeconfig('cert-1'));
    const kube = new Kube(file);
    const first = await agentOf(kube);
    expect(first).toBe(await agentOf(kube));
    expect(first.options.keepAlive).toBe(true);
    expect(String(first.options.cert)).toBe('cert-1');
    expect(String(first.options.ca)).toBe('ca');

    // A credential that hands out a new client certificate: the next request carries it.
    kube.config.users[0] = { ...kube.config.users[0], certData: b64('cert-2') };
    const second = await agentOf(kube);
    expect(second).not.toBe(first);
    expect(String(second.options.cert)).toBe('cert-2');
  });
});
