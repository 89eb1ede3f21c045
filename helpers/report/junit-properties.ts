// Adds the cluster's facts (Kubernetes version, proxy mode, CNI, nodes, provider) to every
// <testsuite> of vitest's JUnit report, as <properties>, so a CI system shows what ran where.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ClusterHandle } from '../cluster/provider.js';

export function clusterProperties(handle: ClusterHandle, runId: string): Record<string, string> {
  const c = handle.capabilities;
  return {
    'svc-conformance.run-id': runId,
    'cluster.provider': handle.provider,
    'cluster.name': handle.name,
    'kubernetes.version': c.kubernetesVersion,
    'kube-proxy.mode': c.proxyMode,
    cni: c.cni,
    nodes: String(c.nodeCount),
    'ip.families': c.ipFamilies.join(','),
    'cluster.domain': c.clusterDomain,
  };
}

export function addJunitProperties(file: string, properties: Record<string, string>): void {
  if (!existsSync(file)) return;
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const block = `<properties>${Object.entries(properties)
    .map(([k, v]) => `<property name="${escape(k)}" value="${escape(v)}"/>`)
    .join('')}</properties>`;
  const xml = readFileSync(file, 'utf8').replace(/(<testsuite\b[^>]*[^/]>)/g, `$1\n        ${block}`);
  writeFileSync(file, xml);
}
