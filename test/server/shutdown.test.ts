import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readSse } from '../support/server.js';

test('SIGTERM: readiness 503 at once, still serving through the drain, the in-flight stream finishes, exit 0', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pronto-shutdown-'));
  const configFile = join(dataDir, 'config.json');
  // A drain long enough to observe; nothing in the test waits for it to pass on a timer.
  writeFileSync(configFile, JSON.stringify({ server: { drain_ms: 3000 } }));
  const child = spawn(process.execPath, ['bin/pronto.js', 'serve', '--port', '0'], {
    env: { ...process.env, PRONTO_DATA_DIR: dataDir, LOG_LEVEL: 'info', PRONTO_CONFIG: configFile },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const ready = /"url":"(http:\/\/[^"]+)".*"msg":"pronto is ready"/.exec(out);
        if (ready) resolve(ready[1]);
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
    });
    const res = await fetch(`${url}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Explain deadlines, budgets and fallbacks in detail', max_tokens: 200 }),
    });
    const events = readSse(res);
    assert.equal((await events.next()).value?.event, 'contexts');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    await new Promise<void>((resolve) => {
      const check = () => (out.includes('draining') ? resolve() : setTimeout(check, 10));
      check();
    });

    const readiness = await fetch(`${url}/readyz`);
    assert.equal(readiness.status, 503, 'load balancers are told to go first');
    assert.equal(((await readiness.json()) as { error: { code: string } }).error.code, 'shutting_down');
    const search = await fetch(`${url}/v1/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'deadlines' }),
    });
    assert.equal(search.status, 200, 'requests that still arrive during the drain are served');
    assert.equal(search.headers.get('connection'), 'close', 'and their connection is not kept');

    const rest = [];
    for await (const event of events) rest.push(event.event);
    assert.equal(rest.at(-1), 'done', 'the stream in flight finished');
    assert.equal(await exited, 0);
    const afterwards = await fetch(`${url}/healthz`).then(
      (r) => r.status,
      () => 'refused',
    );
    assert.equal(afterwards, 'refused', 'the listener is closed once the process has exited');
  } finally {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
