import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startTestServer } from '../support/server.js';

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const skip = promtool.status === 0 ? false : 'promtool is not installed (apt-get install prometheus)';

function run(args: string[], input?: string) {
  const result = spawnSync('promtool', args, { encoding: 'utf8', input });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

describe('Prometheus tooling accepts what pronto ships', { skip }, () => {
  test('the alert rules are valid', () => {
    const result = run(['check', 'rules', 'deploy/prometheus/alerts.yaml']);
    assert.ok(result.ok, result.output);
  });

  test('each alert fires on its fixture and stays quiet on the neighbouring one', () => {
    const result = run(['test', 'rules', 'test/observability/fixtures/alerts.test.yaml']);
    assert.ok(result.ok, result.output);
  });

  test('every pronto metric the rules read is one the catalogue documents (and the catalogue test sees move)', () => {
    const rules = readFileSync('deploy/prometheus/alerts.yaml', 'utf8');
    const catalogue = readFileSync('docs/METRICS.md', 'utf8');
    const read = new Set([...rules.matchAll(/\b(pronto_[a-z_]+?)(?:_bucket|_count|_sum)?\b/g)].map((m) => m[1]));
    const undocumented = [...read].filter((name) => !catalogue.includes(`| \`${name}\` |`));
    assert.deepEqual(undocumented, []);
  });

  test('/metrics, process metrics included, passes promtool check metrics', async () => {
    const server = await startTestServer({}, { defaultMetrics: true });
    try {
      assert.equal((await server.post('/v1/search', { query: 'metrics' })).status, 200);
      const text = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(text, /^process_cpu_user_seconds_total /m, 'process metrics keep their standard names');
      assert.doesNotMatch(text, /^pronto_(process|nodejs)_/m);
      const result = run(['check', 'metrics'], text);
      assert.ok(result.ok, result.output);
    } finally {
      await server.close();
    }
  });
});

test('every query of the Grafana dashboard uses only catalogued metrics, and each parses', () => {
  const dashboard = JSON.parse(readFileSync('deploy/grafana/dashboard.json', 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
  const catalogue = readFileSync('docs/METRICS.md', 'utf8');
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
  assert.ok(exprs.length >= 14);
  for (const expr of exprs) {
    for (const [name] of expr.matchAll(/pronto_[a-z_]+/g)) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      assert.ok(catalogue.includes(`\`${base}\``), `${name} in "${expr}" is not in docs/METRICS.md`);
    }
  }
  if (skip) return;
  // promtool parses PromQL inside rules: check the dashboard's queries as recording rules.
  const rules = { groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:q${i}`, expr: expr.replaceAll('$__rate_interval', '1m').replaceAll('$job', '.*') })) }] };
  const dir = mkdtempSync(join(tmpdir(), 'pronto-grafana-'));
  try {
    writeFileSync(join(dir, 'rules.yaml'), JSON.stringify(rules));
    const result = run(['check', 'rules', join(dir, 'rules.yaml')]);
    assert.ok(result.ok, result.output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
