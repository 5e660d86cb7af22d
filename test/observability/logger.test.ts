import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';

/** Logs one line through the app's logger with the default output choice (stdout a TTY or not). */
const PROGRAM = `
import { createLogger } from './src/observability/logger.ts';
createLogger('info').info({ request_id: 'r-1' }, 'hello from the logger');
`;
const node = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', PROGRAM];
// util-linux's script(1) runs a command on a real pseudo-terminal: stdout.isTTY is true there.
const SCRIPT = '/usr/bin/script';

test('stdout not a terminal: one JSON line', () => {
  const run = spawnSync(node[0], node.slice(1), { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  const line = JSON.parse(run.stdout.trim());
  assert.equal(line.msg, 'hello from the logger');
  assert.equal(line.request_id, 'r-1');
});

test('stdout a terminal: pino-pretty lines, not JSON', { skip: existsSync(SCRIPT) ? false : `no ${SCRIPT} (util-linux) to run on a pseudo-terminal` }, () => {
  const command = node.map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ');
  const run = spawnSync(SCRIPT, ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  const text = run.stdout.replace(/\u001b\[[0-9;]*m/g, '').replaceAll('\r', '');
  assert.match(text, /INFO.*: hello from the logger/);
  assert.match(text, /request_id: "r-1"/);
  assert.doesNotMatch(text, /^\{/m, 'no JSON line');
});
