import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { patched, workloadPatches } from './patches.js';

const service: k8s.V1Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'hostnames' },
  spec: { selector: { app: 'hostnames' }, ports: [{ port: 80, targetPort: 9376 as never }] },
};

const file = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'patches-')), 'patches.yaml');
  writeFileSync(path, text);
  return path;
};

describe('workload patches', () => {
  it('applies the JSON Patch of the object with that kind and name, and leaves the original alone', () => {
    const patches = workloadPatches(
      file(
        '- kind: Service\n  name: hostnames\n  patch:\n    - { op: replace, path: /spec/ports/0/targetPort, value: 9377 }\n',
      ),
    );
    expect(patched(service, patches).spec!.ports![0].targetPort).toBe(9377);
    expect(service.spec!.ports![0].targetPort).toBe(9376);
  });

  it('leaves objects of another name as they are', () => {
    const patches = [{ kind: 'Service', name: 'other', patch: [{ op: 'remove' as const, path: '/spec/selector' }] }];
    expect(patched(service, patches)).toEqual(service);
  });

  it('refuses a file that is not a list of patches, in one line naming the variable', () => {
    expect(() => workloadPatches(file('kind: Service\n'))).toThrow(
      /must be a list of \{ kind, name, patch.*SVC_WORKLOAD_PATCH$/,
    );
    expect(() => workloadPatches(file('- kind: Service\n  name: x\n  patch: [{ op: bogus, path: /a }]\n'))).toThrow(
      /must be a list/,
    );
  });
});
