// The local cluster's certificates, made with openssl: one CA, the apiserver's serving
// certificate, a client certificate per component, and the service-account key pair.
// EC P-256 keys keep this under a second.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../host/run.js';
import { addressInRange } from '../../parse/cidr.js';
import type { ClusterLayout } from './layout.js';

export interface ClientCert {
  cert: string;
  key: string;
}

export interface Pki {
  ca: string;
  caKey: string;
  apiserver: ClientCert;
  admin: ClientCert;
  apiserverKubeletClient: ClientCert;
  controllerManager: ClientCert;
  scheduler: ClientCert;
  kubeProxy: ClientCert;
  kubelets: Record<string, ClientCert>;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

const openssl = (...args: string[]) => run('openssl', args);

export async function createPki(layout: ClusterLayout): Promise<Pki> {
  const dir = layout.pkiDir;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = (f: string) => join(dir, f);

  await newKey(path('ca.key'));
  await openssl(
    'req',
    '-x509',
    '-new',
    '-key',
    path('ca.key'),
    '-sha256',
    '-days',
    '30',
    '-subj',
    `/CN=svc-conformance-${layout.name}-ca`,
    '-out',
    path('ca.crt'),
  );

  const sign = async (name: string, subject: string, sans?: string[]): Promise<ClientCert> => {
    const key = path(`${name}.key`);
    const cert = path(`${name}.crt`);
    const ext = path(`${name}.ext`);
    await newKey(key);
    await openssl('req', '-new', '-key', key, '-subj', subject, '-out', path(`${name}.csr`));
    const usage = sans ? 'serverAuth' : 'clientAuth';
    await writeFile(
      ext,
      `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=${usage}\n${sans ? `subjectAltName=${sans.join(',')}\n` : ''}`,
    );
    await openssl(
      'x509',
      '-req',
      '-in',
      path(`${name}.csr`),
      '-CA',
      path('ca.crt'),
      '-CAkey',
      path('ca.key'),
      '-CAcreateserial',
      '-days',
      '30',
      '-sha256',
      '-extfile',
      ext,
      '-out',
      cert,
    );
    return { cert, key };
  };

  const serviceIPs = Object.values(layout.nets).map((net) => firstServiceIP(net.serviceCIDR));
  const domain = layout.network.clusterDomain;
  const apiserver = await sign('apiserver', '/CN=kube-apiserver', [
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    `DNS:kubernetes.default.svc.${domain}`,
    'DNS:localhost',
    'IP:127.0.0.1',
    'IP:::1',
    ...serviceIPs.map((ip) => `IP:${ip}`),
    ...Object.values(layout.nodes[0].addrs).map((ip) => `IP:${ip}`),
  ]);
  const kubelets: Record<string, ClientCert> = {};
  for (const node of layout.nodes)
    kubelets[node.name] = await sign(`kubelet-${node.index}`, `/O=system:nodes/CN=system:node:${node.name}`);

  await newKey(path('sa.key'));
  await openssl('pkey', '-in', path('sa.key'), '-pubout', '-out', path('sa.pub'));

  return {
    ca: path('ca.crt'),
    caKey: path('ca.key'),
    apiserver,
    admin: await sign('admin', '/O=system:masters/CN=svc-conformance-admin'),
    apiserverKubeletClient: await sign(
      'apiserver-kubelet-client',
      '/O=system:masters/CN=kube-apiserver-kubelet-client',
    ),
    controllerManager: await sign('controller-manager', '/CN=system:kube-controller-manager'),
    scheduler: await sign('scheduler', '/CN=system:kube-scheduler'),
    kubeProxy: await sign('kube-proxy', '/CN=system:kube-proxy'),
    kubelets,
    serviceAccountKey: path('sa.key'),
    serviceAccountPub: path('sa.pub'),
  };
}

async function newKey(file: string): Promise<void> {
  await openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file);
}

/** The kubernetes Service's address: the first of the range (10.96.0.0/16 → 10.96.0.1, fd00:10:96::/112 → fd00:10:96::1). */
export function firstServiceIP(cidr: string): string {
  const ip = addressInRange(cidr, 1);
  if (!ip) throw new Error(`not an address range: ${cidr}`);
  return ip;
}
