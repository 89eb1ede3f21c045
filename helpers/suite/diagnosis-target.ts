// Which Service a spec file is about, so that a failure can be diagnosed: deployHostnames
// registers its Service here. A worker runs several spec files in one module scope
// (isolate: false), so the setup file forgets the target before each file.
let target: { namespace: string; service: string } | undefined;

export function forgetDiagnosisTarget(): void {
  target = undefined;
}

export function setDiagnosisTarget(namespace: string, service: string): void {
  target ??= { namespace, service };
}

export function diagnosisTarget(): { namespace: string; service: string } | undefined {
  return target;
}
