#!/usr/bin/env node
// In a development checkout (sources present, tsx installed) this runs the TypeScript sources, so
// a change needs no build step and a stale dist/ is never what runs. A production install has no
// tsx: it runs the build (`npm run build` → dist/), as `npm start` does.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
const tsx = existsSync(sources) && (await import('tsx/esm/api').catch(() => undefined));
if (tsx) {
  tsx.register();
  await import(sources.href);
} else if (existsSync(new URL('../dist/src/cli/main.js', import.meta.url))) {
  await import('../dist/src/cli/main.js');
} else {
  process.stderr.write('pronto: no build in dist/: run `npm run build` first\n');
  process.exit(1);
}
