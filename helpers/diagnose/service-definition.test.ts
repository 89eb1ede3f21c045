import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { serviceDefinitionProblems } from './service-definition.js';

const pod = (ports: k8s.V1ContainerPort[]): k8s.V1Pod => ({
  metadata: { name: 'hostnames-a' },
  spec: { containers: [{ name: 'c', ports }] },
});
const service = (port: k8s.V1ServicePort): k8s.V1Service => ({
  metadata: { namespace: 'ns', name: 'hostnames' },
  spec: { ports: [port] },
});

describe('serviceDefinitionProblems', () => {
  const serving = pod([{ name: 'serve', containerPort: 9376, protocol: 'TCP' }]);

  it('accepts a numeric or named targetPort that a container port has', () => {
    expect(serviceDefinitionProblems(service({ port: 80, targetPort: 9376 as never }), [serving])).toEqual([]);
    expect(serviceDefinitionProblems(service({ port: 80, targetPort: 'serve' as never }), [serving])).toEqual([]);
  });

  it('names a targetPort no container has', () => {
    const [problem] = serviceDefinitionProblems(service({ port: 80, targetPort: 9377 as never }), [serving]);
    expect(problem).toContain(
      'no container declares port 9377 in pod hostnames-a (its container ports: serve=9376/TCP)',
    );
  });

  it('names a named targetPort that no container port has', () => {
    const [problem] = serviceDefinitionProblems(service({ port: 80, targetPort: 'http' as never }), [serving]);
    expect(problem).toContain('no container port is named "http"');
  });

  it('names a protocol mismatch', () => {
    const [problem] = serviceDefinitionProblems(service({ port: 80, targetPort: 9376 as never, protocol: 'UDP' }), [
      serving,
    ]);
    expect(problem).toContain('protocol UDP, but container port 9376 of pod hostnames-a is TCP');
  });

  it('says when the selector matches no pods', () => {
    expect(serviceDefinitionProblems(service({ port: 80 }), [])).toEqual([
      'Service ns/hostnames: its selector matches no pods, so its ports cannot be checked',
    ]);
  });
});

describe('serviceDefinitionProblems: one port number for TCP and UDP', () => {
  it('accepts a UDP Service port when the container declares the number for both protocols', () => {
    const pod = {
      metadata: { name: 'p' },
      spec: {
        containers: [
          {
            name: 'c',
            ports: [
              { name: 'serve', containerPort: 9376, protocol: 'TCP' },
              { name: 'serve-udp', containerPort: 9376, protocol: 'UDP' },
            ],
          },
        ],
      },
    };
    const service = {
      metadata: { namespace: 'ns', name: 's' },
      spec: { ports: [{ name: 'default', port: 80, targetPort: 9376, protocol: 'UDP' }] },
    };
    expect(serviceDefinitionProblems(service as never, [pod as never])).toEqual([]);
  });
});
