// The guide's "Is the Service defined correctly?" as a check: every Service port's
// targetPort (number or name) and protocol must match a containerPort of every pod the
// selector matches. Returns the problems found, each one sentence.
import type * as k8s from '@kubernetes/client-node';

export function serviceDefinitionProblems(service: k8s.V1Service, pods: k8s.V1Pod[]): string[] {
  const id = `Service ${service.metadata?.namespace}/${service.metadata?.name}`;
  if (pods.length === 0) return [`${id}: its selector matches no pods, so its ports cannot be checked`];
  const problems: string[] = [];
  for (const port of service.spec?.ports ?? []) {
    const protocol = port.protocol ?? 'TCP';
    const target = port.targetPort ?? port.port;
    const label = `port ${port.name ? `"${port.name}" ` : ''}${port.port}/${protocol} → targetPort ${JSON.stringify(target)}`;
    for (const pod of pods) {
      const containerPorts = (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
      const match = targetContainerPort(port, pod);
      const offered =
        containerPorts
          .map((cp) => `${cp.name ? `${cp.name}=` : ''}${cp.containerPort}/${cp.protocol ?? 'TCP'}`)
          .join(', ') || 'none';
      if (!match) {
        const kind =
          typeof target === 'string' && !/^\d+$/.test(target)
            ? 'no container port is named'
            : 'no container declares port';
        problems.push(
          `${id} ${label}: ${kind} ${JSON.stringify(target)} in pod ${pod.metadata?.name} (its container ports: ${offered})`,
        );
      } else if ((match.protocol ?? 'TCP') !== protocol) {
        problems.push(
          `${id} ${label}: protocol ${protocol}, but container port ${match.containerPort} of pod ${pod.metadata?.name} is ${match.protocol ?? 'TCP'}`,
        );
      }
    }
  }
  return problems;
}

/** The container port of `pod` a Service port's targetPort (a number, a numeric string or a name) points at. */
export function targetContainerPort(port: k8s.V1ServicePort, pod: k8s.V1Pod): k8s.V1ContainerPort | undefined {
  const protocol = port.protocol ?? 'TCP';
  const target = port.targetPort ?? port.port;
  const targets = (pod.spec?.containers ?? [])
    .flatMap((c) => c.ports ?? [])
    .filter((cp) =>
      typeof target === 'number' || /^\d+$/.test(String(target))
        ? cp.containerPort === Number(target)
        : cp.name === target,
    );
  // One number may be declared for TCP and UDP alike: prefer the entry of the Service's protocol.
  return targets.find((cp) => (cp.protocol ?? 'TCP') === protocol) ?? targets[0];
}
