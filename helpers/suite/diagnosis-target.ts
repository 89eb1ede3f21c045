// Which Service a spec file is about, so that a failure can be diagnosed: deployHostnames
// registers its Service here (one spec file runs per worker module scope).
let target: { namespace: string; service: string } | undefined;

export function setDiagnosisTarget(namespace: string, service: string): void {
  target ??= { namespace, service };
}

export function diagnosisTarget(): { namespace: string; service: string } | undefined {
  return target;
}
