import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractTsConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { LAYERS, ruleSet } from './layers.js';

/**
 * The import graph of src/ runs one way: the layer order and the cycle rule live in
 * ./layers.ts, and dependency-cruiser checks them here on every `npm test`.
 */

const root = path.resolve(import.meta.dirname, '../..');

async function violations(baseDir: string): Promise<{ graph: ICruiseResult; found: string[] }> {
  const { output } = await cruise(
    ['src'],
    { ...ruleSet.options, baseDir, validate: true, ruleSet: { forbidden: ruleSet.forbidden } },
    {},
    { tsConfig: extractTsConfig(path.join(root, 'tsconfig.json')) },
  );
  const graph = output as ICruiseResult;
  const found = graph.summary.violations.map((v) =>
    v.cycle ? `${v.rule.name}: ${v.from} -> ${v.cycle.map((step) => step.name).join(' -> ')}` : `${v.rule.name}: ${v.from} -> ${v.to}`,
  );
  return { graph, found };
}

test('no import in src/ runs against the layer order, and there are no cycles', async () => {
  const { graph, found } = await violations(root);
  assert.deepEqual(found, []);
  const outside = graph.modules
    .map((m) => m.source)
    .filter((source) => source.startsWith('src/') && !LAYERS.some((layer) => new RegExp(layer.path).test(source)));
  assert.deepEqual(outside, [], 'every module in src/ belongs to a layer of ./layers.ts');
});

test('the rules catch an import against the layer order and a cycle (fixture)', async () => {
  const { found } = await violations(path.join(import.meta.dirname, 'fixture'));
  assert.ok(found.includes('layer-core: src/core/clock.ts -> src/pipeline/flow.ts'), found.join('\n'));
  assert.ok(found.some((v) => v.startsWith('no-cycles: ')), found.join('\n'));
});

test('no domain module imports the composed Config type: each takes its own slice', () => {
  // The composition root (runtime.ts), the server and the CLI see every key; the domains below
  // them name only what they read (PipelineSettings, JobHandlersConfig, RetrievalSettings...).
  const domains = ['core', 'observability', 'models', 'retrieval', 'pipeline', 'api', 'jobs'];
  const found: string[] = [];
  for (const domain of domains) {
    const dir = path.join(root, 'src', domain);
    for (const file of readdirSync(dir, { recursive: true }) as string[]) {
      if (!file.endsWith('.ts')) continue;
      const source = readFileSync(path.join(dir, file), 'utf8');
      for (const [, names, from] of source.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'([^']+)'/g)) {
        const imported = names.split(',').map((name) => name.replace(/^\s*type\s+/, '').trim());
        if (from.endsWith('config/schema.js') && imported.includes('Config')) found.push(`src/${domain}/${file}`);
      }
    }
  }
  assert.deepEqual(found, []);
});
