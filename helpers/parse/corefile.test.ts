import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubernetesZones, parseCorefile, reverseLookup, reverseName, servesDomain } from './corefile.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

describe("kubernetesZones (recorded: the local cluster's ConfigMap kube-system/coredns)", () => {
  const local = fixture('Corefile.cluster-local');

  it("reads the kubernetes plugin's zones and the server blocks", () => {
    expect(parseCorefile(local)).toEqual([
      {
        zones: ['cluster.local', 'in-addr.arpa', 'ip6.arpa'],
        kubernetes: ['cluster.local', 'in-addr.arpa', 'ip6.arpa'],
        plugins: ['errors', 'health', 'ready', 'kubernetes', 'prometheus', 'cache', 'reload', 'loadbalance'],
      },
      { zones: ['.'], plugins: ['errors', 'template'] },
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

describe('reverseLookup: where a PTR query goes (recorded Corefile, and the reverse zones taken out)', () => {
  const local = fixture('Corefile.cluster-local');
  const noReverse = local.replace('kubernetes cluster.local in-addr.arpa ip6.arpa {', 'kubernetes cluster.local {');

  it('writes the reverse names of both families', () => {
    expect(reverseName('10.96.0.50')).toBe('50.0.96.10.in-addr.arpa');
    expect(reverseName('fd00:10:96::1a')).toBe(`a.1.0.0${'.0'.repeat(16)}.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa`);
    expect(reverseName('10.96.0.0/16')).toBeUndefined();
  });

  it("is served by the local cluster's kubernetes plugin, in both families", () => {
    expect(reverseLookup(local, '10.96.0.50')).toMatchObject({ served: true });
    expect(reverseLookup(local, 'fd00:10:96::1a')).toMatchObject({ served: true });
  });

  it('goes, unserved, to the block that lists in-addr.arpa, where nothing answers it, once the plugin drops its reverse zones', () => {
    expect(reverseLookup(noReverse, '10.96.0.50')).toEqual({
      name: '50.0.96.10.in-addr.arpa',
      served: false,
      block: ['cluster.local', 'in-addr.arpa', 'ip6.arpa'],
      others: [],
    });
  });

  it('falls to the `.` block and its other plugins when no block names the reverse zone; a narrower plugin zone serves only its range', () => {
    const dotOnly = noReverse.replace('cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {', 'cluster.local:53 {');
    expect(reverseLookup(dotOnly, '10.96.0.50')).toMatchObject({ served: false, block: ['.'], others: ['template'] });
    const ten = local.replace(
      'kubernetes cluster.local in-addr.arpa ip6.arpa {',
      'kubernetes cluster.local 10.in-addr.arpa {',
    );
    expect(reverseLookup(ten, '10.96.0.50')?.served).toBe(true);
    expect(reverseLookup(ten, '192.168.0.5')?.served).toBe(false);
    expect(reverseLookup('cluster.local:53 {\n    kubernetes\n}\n', '10.96.0.50')).toEqual({
      name: '50.0.96.10.in-addr.arpa',
      served: false,
      others: [],
    });
  });
});
