import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kubeProxyIptablesFrontends, kubeProxyIptablesRules, parseIptablesSave } from './iptables-save.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const recorded = fixture('iptables-save.hostnames.txt');
const hostnames = { namespace: 'default', name: 'hostnames', portName: 'default' };

describe('parseIptablesSave', () => {
  const dump = parseIptablesSave(recorded);

  it('reads every table with its chains, policies and rules', () => {
    expect(Object.keys(dump.tables)).toEqual(['mangle', 'filter', 'nat']);
    expect(dump.tables.mangle.rules).toEqual([]);
    expect(dump.tables.filter.rules).toHaveLength(15);
    expect(dump.tables.nat.rules).toHaveLength(39);
    expect(dump.tables.filter.chains.INPUT).toEqual({ policy: 'ACCEPT' });
    expect(dump.tables.nat.chains['KUBE-SVC-ODX2UBAZM7RQWOIU']).toEqual({});
    expect(Object.keys(dump.tables.nat.chains)).toHaveLength(22);
  });

  it('keeps a quoted comment as one token and reads target and comment', () => {
    const rule = dump.tables.nat.rules.find(
      (r) => r.chain === 'KUBE-SERVICES' && r.comment?.startsWith('default/hostnames'),
    );
    expect(rule).toEqual({
      table: 'nat',
      chain: 'KUBE-SERVICES',
      args: [
        '-d',
        '10.96.159.142/32',
        '-p',
        'tcp',
        '-m',
        'comment',
        '--comment',
        'default/hostnames:default cluster IP',
        '-m',
        'tcp',
        '--dport',
        '80',
        '-j',
        'KUBE-SVC-ODX2UBAZM7RQWOIU',
      ],
      target: 'KUBE-SVC-ODX2UBAZM7RQWOIU',
      comment: 'default/hostnames:default cluster IP',
      raw: '-A KUBE-SERVICES -d 10.96.159.142/32 -p tcp -m comment --comment "default/hostnames:default cluster IP" -m tcp --dport 80 -j KUBE-SVC-ODX2UBAZM7RQWOIU',
    });
  });

  it('tolerates doubled blanks, negations and rules without a target', () => {
    const [nfacct] = dump.tables.filter.rules.filter((r) => r.chain === 'KUBE-FORWARD');
    expect(nfacct.args).toEqual([
      '-m',
      'conntrack',
      '--ctstate',
      'INVALID',
      '-m',
      'nfacct',
      '--nfacct-name',
      'ct_state_invalid_dropped_pkts',
      '-j',
      'DROP',
    ]);
    const firewall = dump.tables.filter.rules.find((r) => r.chain === 'KUBE-FIREWALL');
    expect(firewall?.args.slice(0, 4)).toEqual(['!', '-s', '127.0.0.0/8', '-d']);
    expect(parseIptablesSave('*raw\n-A PREROUTING -p tcp\nCOMMIT\n').tables.raw.rules[0]).toEqual({
      table: 'raw',
      chain: 'PREROUTING',
      args: ['-p', 'tcp'],
      raw: '-A PREROUTING -p tcp',
    });
  });

  it('unescapes \\" inside a quoted comment and accepts CRLF line ends', () => {
    const dump = parseIptablesSave(
      '*filter\r\n:INPUT DROP [0:0]\r\n-A INPUT -m comment --comment "say \\"hi\\"" -j ACCEPT\r\nCOMMIT\r\n',
    );
    expect(dump.tables.filter.chains.INPUT).toEqual({ policy: 'DROP' });
    expect(dump.tables.filter.rules[0]).toMatchObject({
      args: ['-m', 'comment', '--comment', 'say "hi"', '-j', 'ACCEPT'],
      target: 'ACCEPT',
      comment: 'say "hi"',
    });
  });

  it('returns no tables for empty input or stray lines outside a table', () => {
    expect(parseIptablesSave('')).toEqual({ tables: {} });
    expect(parseIptablesSave('-A INPUT -j ACCEPT\n# comment\n')).toEqual({ tables: {} });
  });
});

describe('kubeProxyIptablesRules', () => {
  const dump = parseIptablesSave(recorded);

  it('follows default/hostnames:default from KUBE-SERVICES to its three endpoints', () => {
    const rules = kubeProxyIptablesRules(dump, hostnames);
    expect(rules).toEqual({
      service: 'default/hostnames:default',
      clusterIP: '10.96.159.142',
      port: 80,
      protocol: 'tcp',
      serviceJumps: [
        dump.tables.nat.rules.find((r) => r.chain === 'KUBE-SERVICES' && r.target === 'KUBE-SVC-ODX2UBAZM7RQWOIU'),
      ],
      svcChain: 'KUBE-SVC-ODX2UBAZM7RQWOIU',
      endpoints: [
        {
          chain: 'KUBE-SEP-KQXJIRBK6P6QLVPN',
          destination: '10.244.1.3:9376',
          probability: 0.33333333349,
          masqueradesSelf: true,
        },
        { chain: 'KUBE-SEP-ZIDLKAVZSENS4D6S', destination: '10.244.1.4:9376', probability: 0.5, masqueradesSelf: true },
        {
          chain: 'KUBE-SEP-LZSOAAIF344LOQYR',
          destination: '10.244.1.5:9376',
          probability: undefined,
          masqueradesSelf: true,
        },
      ],
      masqueradeMark: '0x4000/0x4000',
    });
    expect(rules?.serviceJumps).toHaveLength(1);
  });

  it('picks the port by name, or the first port when none is given', () => {
    expect(kubeProxyIptablesRules(dump, { namespace: 'kube-system', name: 'kube-dns', portName: 'dns' })).toMatchObject(
      {
        service: 'kube-system/kube-dns:dns',
        clusterIP: '10.96.0.10',
        port: 53,
        protocol: 'udp',
        svcChain: 'KUBE-SVC-TCOU7JCQXEZGVUNU',
        endpoints: [{ chain: 'KUBE-SEP-Z6M7ZHWCTBNMPLD7', destination: '10.244.1.2:53', masqueradesSelf: true }],
      },
    );
    const anyPort = kubeProxyIptablesRules(dump, { namespace: 'kube-system', name: 'kube-dns' });
    expect(anyPort).toMatchObject({ service: 'kube-system/kube-dns:dns-tcp', port: 53, protocol: 'tcp' });
    expect(anyPort?.serviceJumps).toHaveLength(1);
    expect(kubeProxyIptablesRules(dump, { namespace: 'default', name: 'hostnames' })?.service).toBe(
      'default/hostnames:default',
    );
  });

  it('reads an unnamed port (comments "ns/name", no ":port")', () => {
    // Derived from the recording: the same rules with the port name taken out of the comments.
    const unnamed = parseIptablesSave(recorded.replaceAll('default/hostnames:default', 'default/hostnames'));
    const rules = kubeProxyIptablesRules(unnamed, { namespace: 'default', name: 'hostnames', portName: '' });
    expect(rules).toMatchObject({
      service: 'default/hostnames',
      clusterIP: '10.96.159.142',
      port: 80,
      svcChain: 'KUBE-SVC-ODX2UBAZM7RQWOIU',
    });
    expect(rules?.endpoints.map((e) => e.destination)).toEqual([
      '10.244.1.3:9376',
      '10.244.1.4:9376',
      '10.244.1.5:9376',
    ]);
    expect(kubeProxyIptablesRules(unnamed, hostnames)).toBeUndefined();
  });

  it('reports a Service without endpoints by its filter REJECT rule', () => {
    // Constructed in kube-proxy's format, not recorded: filter KUBE-SERVICES rejects a Service with no endpoints.
    const reject =
      '-A KUBE-SERVICES -d 10.96.7.7/32 -p tcp -m comment --comment "default/empty:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable';
    const dump = parseIptablesSave(recorded.replace(':KUBE-SERVICES - [0:0]\n', `:KUBE-SERVICES - [0:0]\n${reject}\n`));
    expect(kubeProxyIptablesRules(dump, { namespace: 'default', name: 'empty' })).toMatchObject({
      service: 'default/empty:http',
      clusterIP: '10.96.7.7',
      port: 80,
      protocol: 'tcp',
      svcChain: undefined,
      endpoints: [],
      serviceJumps: [{ table: 'filter', target: 'REJECT' }],
    });
  });

  it('reads ip6tables-save: /128 prefixes and [bracketed]:port destinations', () => {
    // Constructed in ip6tables-save's format, not recorded.
    const dump = parseIptablesSave(
      [
        '*nat',
        '-A KUBE-SERVICES -d fd00:10:96::7/128 -p tcp -m comment --comment "default/h6:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-Y',
        '-A KUBE-SVC-Y -m comment --comment "default/h6:http -> [fd00:10:244:1::3]:9376" -j KUBE-SEP-X',
        '-A KUBE-SEP-X -s fd00:10:244:1::3/128 -m comment --comment "default/h6:http" -j KUBE-MARK-MASQ',
        '-A KUBE-SEP-X -p tcp -m comment --comment "default/h6:http" -m tcp -j DNAT --to-destination [fd00:10:244:1::3]:9376',
        'COMMIT',
      ].join('\n'),
    );
    expect(kubeProxyIptablesRules(dump, { namespace: 'default', name: 'h6' })).toMatchObject({
      clusterIP: 'fd00:10:96::7',
      port: 80,
      svcChain: 'KUBE-SVC-Y',
      masqueradeMark: undefined,
      endpoints: [
        { chain: 'KUBE-SEP-X', destination: '[fd00:10:244:1::3]:9376', probability: undefined, masqueradesSelf: true },
      ],
    });
  });

  it('returns undefined for a Service, port or table that is not there', () => {
    expect(kubeProxyIptablesRules(dump, { namespace: 'default', name: 'nosuch' })).toBeUndefined();
    expect(kubeProxyIptablesRules(dump, { namespace: 'default', name: 'hostnames', portName: 'http' })).toBeUndefined();
    expect(kubeProxyIptablesRules(dump, { namespace: 'other', name: 'hostnames' })).toBeUndefined();
    expect(kubeProxyIptablesRules(parseIptablesSave(''), hostnames)).toBeUndefined();
  });

  it('parses a 100,000-rule dump: the recorded Service repeated under other names and IPs', () => {
    const big = parseIptablesSave(syntheticDump(recorded, 9091));
    const rulesPerCopy = 11; // 1 KUBE-SERVICES jump, 4 KUBE-SVC rules, 3 × 2 KUBE-SEP rules
    expect(big.tables.nat.rules).toHaveLength(39 + 9091 * rulesPerCopy);
    expect(big.tables.nat.rules.length + big.tables.filter.rules.length).toBeGreaterThanOrEqual(100_000);
    expect(Object.keys(big.tables.nat.chains)).toHaveLength(22 + 9091 * 4);
    const copy = kubeProxyIptablesRules(big, { namespace: 'default', name: 'hostnames-4242', portName: 'default' });
    expect(copy).toMatchObject({ clusterIP: '10.96.16.146', port: 80, svcChain: 'KUBE-SVC-ODX2UBAZM7RQ039U' });
    expect(copy?.endpoints.map((e) => [e.destination, e.masqueradesSelf])).toEqual([
      ['10.3.16.146:9376', true],
      ['10.4.16.146:9376', true],
      ['10.5.16.146:9376', true],
    ]);
  });
});

// The recording's default/hostnames rules copied `copies` times: Service hostnames-i, chain names
// ending in i (base 36), cluster IP 10.96.(i>>8).(i&255), pod 10.244.1.N → 10.N.(i>>8).(i&255).
function syntheticDump(text: string, copies: number): string {
  const rules = text
    .split('\n')
    .filter((line) => line.startsWith('-A ') && line.includes('"default/hostnames:default'));
  const chains = [...new Set(rules.flatMap((line) => line.match(/KUBE-S(VC|EP)-\w+/g) ?? []))];
  const declarations: string[] = [];
  const copied: string[] = [];
  for (let i = 0; i < copies; i++) {
    const tag = i.toString(36).toUpperCase().padStart(4, '0');
    const ip = `${i >> 8}.${i & 255}`;
    let block = rules.join('\n');
    for (const chain of chains) block = block.replaceAll(chain, chain.slice(0, -4) + tag);
    block = block.replaceAll('hostnames', `hostnames-${i}`).replaceAll('10.96.159.142', `10.96.${ip}`);
    copied.push(block.replace(/10\.244\.1\.(\d)/g, (_, n: string) => `10.${n}.${ip}`));
    declarations.push(...chains.map((chain) => `:${chain.slice(0, -4) + tag} - [0:0]`));
  }
  const natStart = text.indexOf('*nat\n') + '*nat\n'.length;
  const natCommit = text.lastIndexOf('COMMIT');
  return `${text.slice(0, natStart)}${declarations.join('\n')}\n${text.slice(natStart, natCommit)}${copied.join('\n')}\n${text.slice(natCommit)}`;
}

describe('kubeProxyIptablesFrontends (recorded: NodePort 30080 + externalIP 10.251.0.10, and a Local NodePort 30081)', () => {
  const dump = parseIptablesSave(fixture('iptables-save.nodeport.txt'));

  it('reads the NodePort and externalIP of a Cluster-policy Service, and that it masquerades', () => {
    const frontends = kubeProxyIptablesFrontends(dump, { namespace: 'fixture', name: 'hostnames', portName: 'http' });
    expect(frontends.nodePorts).toEqual([{ port: 30080, protocol: 'tcp', chain: 'KUBE-EXT-3XNG75ONBI5CRWNJ' }]);
    expect(frontends.externalIPs).toEqual([{ ip: '10.251.0.10', port: 80, chain: 'KUBE-EXT-3XNG75ONBI5CRWNJ' }]);
    expect(frontends.masqueradesExternal).toBe(true);
  });

  it('sees that externalTrafficPolicy: Local keeps the source (only LOCAL-source traffic is masqueraded)', () => {
    const frontends = kubeProxyIptablesFrontends(dump, { namespace: 'fixture', name: 'local', portName: 'http' });
    expect(frontends.nodePorts.map((p) => p.port)).toEqual([30081]);
    expect(frontends.externalIPs).toEqual([]);
    expect(frontends.masqueradesExternal).toBe(false);
  });

  it('finds nothing for a ClusterIP-only Service', () => {
    expect(kubeProxyIptablesFrontends(parseIptablesSave(recorded), hostnames)).toEqual({
      nodePorts: [],
      externalIPs: [],
      loadBalancerIPs: [],
      masqueradesExternal: false,
      externalChain: undefined,
      dropsWithoutLocalEndpoints: false,
    });
  });
});

describe('kubeProxyIptablesRules with sessionAffinity: ClientIP (recorded)', () => {
  const rules = kubeProxyIptablesRules(parseIptablesSave(fixture('iptables-save.affinity.txt')), {
    namespace: 'fixture',
    name: 'sticky',
    portName: 'http',
  });

  it('lists each endpoint once, not once per recent-match jump, and reads the affinity timeout', () => {
    expect(rules!.endpoints.map((e) => [e.destination, e.probability])).toEqual([
      ['10.244.1.3:9376', 0.5],
      ['10.244.2.2:9376', undefined],
    ]);
    expect(rules!.affinitySeconds).toBe(10800);
  });

  it('has no affinity timeout for a Service without affinity', () => {
    expect(kubeProxyIptablesRules(parseIptablesSave(recorded), hostnames)!.affinitySeconds).toBeUndefined();
  });
});
