import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readSse } from '../support/server.js';

test('SIGTERM stops accepting, finishes the in-flight stream, and exits 0', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pronto-shutdown-'));
  const child = spawn(process.execPath, ['bin/pronto.js', 'serve', '--port', '0'], {
    env: { ...process.env, PRONTO_DATA_DIR: dataDir, LOG_LEVEL: 'info', PRONTO_CONFIG: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
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
    const rest = [];
    for await (const event of events) rest.push(event.event);
    assert.equal(rest.at(-1), 'done', 'the stream in flight finished');
    const afterwards = await fetch(`${url}/healthz`).then((r) => r.status, () => 'refused');
    assert.notEqual(afterwards, 200, 'no new work is accepted');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
