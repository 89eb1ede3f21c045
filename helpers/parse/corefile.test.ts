import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubernetesZones, parseCorefile, servesDomain } from './corefile.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

describe("kubernetesZones (recorded: the local cluster's ConfigMap kube-system/coredns)", () => {
  const local = fixture('Corefile.cluster-local');

  it("reads the kubernetes plugin's zones and the server blocks", () => {
    expect(parseCorefile(local)).toEqual([
      {
        zones: ['cluster.local', 'in-addr.arpa', 'ip6.arpa'],
        kubernetes: ['cluster.local', 'in-addr.arpa', 'ip6.arpa'],
      },
      { zones: ['.'] },
    ]);
    expect(servesDomain(kubernetesZones(local), 'cluster.local')).toBe(true);
  });

  it("sees that a Corefile for another domain does not serve the cluster's", () => {
    const other = local.replaceAll('cluster.local', 'cluster.example');
    expect(kubernetesZones(other)).toEqual(['cluster.example', 'in-addr.arpa', 'ip6.arpa']);
    expect(servesDomain(kubernetesZones(other), 'cluster.local')).toBe(false);
  });

  it("takes the block's zones when the plugin names none, as kubeadm's `.:53 { kubernetes }` does not", () => {
    expect(kubernetesZones('.:53 {\n    errors\n    kubernetes {\n        pods insecure\n    }\n}\n')).toEqual(['.']);
    expect(servesDomain(['.'], 'cluster.local')).toBe(true);
    expect(kubernetesZones('.:53 {\n    forward . /etc/resolv.conf\n}\n')).toEqual([]);
  });
});
