#!/usr/bin/env node
// The svc-conformance command. The code is TypeScript (bin/cli.ts), loaded through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv.slice(2));
