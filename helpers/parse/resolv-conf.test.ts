import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseResolvConf } from './resolv-conf.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('parseResolvConf', () => {
  it('reads a pod resolv.conf written by kubelet (ClusterFirst)', () => {
    expect(parseResolvConf(fixture('resolv.conf.pod'))).toEqual({
      nameservers: ['10.96.0.10'],
      search: ['dns-r1a2b3c4.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      options: { ndots: '5' },
    });
  });

  it('ignores comments and keeps the last search line', () => {
    const conf = parseResolvConf('# c\nsearch a b\nnameserver 1.2.3.4 ; x\nsearch c\noptions ndots:2 rotate\n');
    expect(conf).toEqual({ nameservers: ['1.2.3.4'], search: ['c'], options: { ndots: '2', rotate: true } });
  });
});
