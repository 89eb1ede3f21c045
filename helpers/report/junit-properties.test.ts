import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addJunitProperties } from './junit-properties.js';

describe('addJunitProperties', () => {
  it('puts the properties first in every testsuite', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'junit-')), 'junit.xml');
    writeFileSync(
      file,
      '<testsuites><testsuite name="a" tests="1"><testcase name="x"/></testsuite><testsuite name="b" tests="0"/></testsuites>',
    );
    addJunitProperties(file, { 'kube-proxy.mode': 'iptables', note: 'a "quoted" <value>' });
    const xml = readFileSync(file, 'utf8');
    expect(xml).toContain(
      '<testsuite name="a" tests="1">\n        <properties><property name="kube-proxy.mode" value="iptables"/><property name="note" value="a &quot;quoted&quot; &lt;value>"/></properties><testcase',
    );
    expect(xml).toContain('<testsuite name="b" tests="0"/>'); // self-closing suites are left alone
  });
});
