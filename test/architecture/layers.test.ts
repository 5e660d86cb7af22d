import assert from 'node:assert/strict';
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
