import { describe, expect, it } from 'vitest';
import { CONTAINERD_CONFIG_TEMPLATE } from './containerd-template.js';
import { k3sPin, missingImageMessage } from './image.js';
import { resolvConf, serverArgs } from './server-args.js';

describe('k3s server arguments', () => {
  const args = serverArgs({ nodeName: 'svc-k3s-svc', proxyMode: 'nftables', clusterDomain: 'cluster.local' });

  it('run the server with the asked proxy mode and nothing that needs a registry', () => {
    expect(args[0]).toBe('server');
    expect(args).toContain('--kube-proxy-arg=proxy-mode=nftables');
    expect(args).toContain('--disable=traefik,metrics-server,local-storage,servicelb');
    expect(args).toContain('--disable-helm-controller');
  });

  it('never let k3s fall back to an outside resolver', () => {
    expect(args).toContain('--resolv-conf=/etc/svc-conformance/resolv.conf');
    expect(resolvConf('10.43.0.10')).toMatch(/^nameserver 10\.43\.0\.10$/m);
    expect(resolvConf()).not.toMatch(/8\.8\.8\.8|127\.0\.0/);
  });

  it('leave host sysctls and oom scores alone', () => {
    expect(args).toEqual(
      expect.arrayContaining(['--kube-proxy-arg=conntrack-max-per-core=0', '--kube-proxy-arg=oom-score-adj=0']),
    );
    expect(CONTAINERD_CONFIG_TEMPLATE).toMatch(/^\s+restrict_oom_score_adj = true$/m);
  });
});

describe('k3s image', () => {
  it('pins the release and a local build of the same minor', () => {
    expect(k3sPin.upstreamImage).toBe(`rancher/k3s:${k3sPin.release.replace('+', '-')}`);
    expect(k3sPin.localImage).toContain(k3sPin.version.replace('+', '-'));
    expect(k3sPin.version.startsWith(k3sPin.release.split('+')[0])).toBe(true);
  });

  it('says how to get a missing image, in one line', () => {
    const message = missingImageMessage('rancher/k3s:v1.34.4-k3s1');
    expect(message).toMatch(/^image rancher\/k3s:v1\.34\.4-k3s1 not available locally; pull it or set SVC_K3S_IMAGE/);
    expect(message).toContain('npm run setup -- --k3s');
    expect(message).not.toContain('\n');
  });
});
