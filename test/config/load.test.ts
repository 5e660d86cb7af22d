import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/core/errors.js';
import { loadConfig } from '../../src/config/load.js';

function configFile(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'pronto-config-')), 'config.yaml');
  writeFileSync(file, yaml);
  return file;
}

test('a bad enum value names the value and the allowed ones', () => {
  assert.throws(
    () => loadConfig({ env: {}, file: configFile('retrieval:\n  default_mode: fuzzy\n') }),
    (err: unknown) => err instanceof ConfigError && err.key === 'retrieval.default_mode' && /"fuzzy" is not one of dense, sparse, hybrid/.test(err.message),
  );
});

test('every problem is reported at once, one line each', () => {
  const file = configFile('bogus: 1\nserver:\n  port: high\n  role: both\nretrieval:\n  fusion: nope\n');
  assert.throws(
    () => loadConfig({ env: {}, file }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const lines = err.message.split('\n');
      assert.equal(lines[0], 'config: 4 problems');
      assert.deepEqual(lines.slice(1).map((l) => l.trim().split(':')[0]).sort(), ['bogus', 'retrieval.fusion', 'server.port', 'server.role']);
      assert.match(err.message, /server\.role: "both" is not one of api, all/);
      return true;
    },
  );
});

test('references are checked once the schema holds, and all are reported', () => {
  assert.throws(
    () => loadConfig({ env: {}, overrides: { pipeline: { embedder: 'missing', generator: 'absent' } } }),
    /config: 2 problems\n {2}pipeline\.embedder: no model named "missing" in models\n {2}pipeline\.generator: no model named "absent"/,
  );
});
