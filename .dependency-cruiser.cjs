// The project's layers, written once, top to bottom (docs/ARCHITECTURE.md tells why each is
// where it is). A file may import its own part (a folder, or a file of its own) and any part of
// a LOWER layer; never a part above it, nor another part of its own layer. So dependencies
// point one way and no two folders can import each other. Nothing below the vitest layer
// imports vitest. Checked by helpers/architecture.test.ts in the unit project (npm test), and
// by hand with `npx depcruise --config .dependency-cruiser.cjs helpers suites bin bench cli-tests`.
const LAYERS = [
  { name: 'commands', parts: ['bin/', 'bench/', 'cli-tests/', 'vitest.config.ts'] },
  { name: 'public API', parts: ['index.ts'] },
  { name: 'specs', parts: ['suites/', 'examples/'] },
  { name: 'vitest fixtures', parts: ['helpers/suite/'] },
  { name: 'vitest reporters', parts: ['helpers/report/'] },
  { name: 'diagnosis and scale', parts: ['helpers/diagnose/', 'helpers/scale/'] },
  { name: 'workloads', parts: ['helpers/workloads/'] },
  { name: 'node access', parts: ['helpers/node/'] },
  { name: 'cluster providers', parts: ['helpers/cluster/'] },
  { name: 'Kubernetes client', parts: ['helpers/kube/'] },
  { name: 'upstream coverage', parts: ['helpers/coverage/'] },
  { name: 'settings', parts: ['helpers/settings.ts'] },
  {
    name: 'foundations',
    parts: ['helpers/parse/', 'helpers/host/', 'helpers/config.ts', 'helpers/errors.ts', 'helpers/address.ts'],
  },
];

/** The layers that vitest itself must not reach: everything below the reporters. */
const BELOW_VITEST = LAYERS.slice(LAYERS.findIndex((layer) => layer.name === 'diagnosis and scale'));

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const pattern = (parts) => `^(${parts.map(escape).join('|')})`;

/** One rule per part: what it may not import (the layers above it, and the other parts of its own layer). */
const layerRules = LAYERS.flatMap((layer, index) =>
  layer.parts.map((part) => {
    const above = LAYERS.slice(0, index).flatMap((l) => l.parts);
    const siblings = layer.parts.filter((p) => p !== part);
    return {
      name: `layer:${part}`,
      severity: 'error',
      comment: `${part} (${layer.name}) may import only itself and the layers below ${layer.name}`,
      from: { path: pattern([part]) },
      to: { path: pattern([...above, ...siblings]) },
    };
  }),
);

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-vitest-below-the-vitest-layer',
      severity: 'error',
      comment:
        'only specs, fixtures and reporters stand on vitest; the layers under them run without it (the CLI, diagnose)',
      from: { path: pattern(BELOW_VITEST.flatMap((l) => l.parts)), pathNot: '\\.test\\.ts$' },
      to: { path: '(^|/)node_modules/(vitest|@vitest)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'files that import each other, however far round',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(\\.build|test-results|setup)/' },
    // Type-only imports count: a type defined in the layer above its users ties them as much as a value does.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
