import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { createProgram } from '../../src/cli/program.js';

const BIN = fileURLToPath(new URL('../../bin/pronto.js', import.meta.url));
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function pronto(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, PRONTO_CONFIG: '', LOG_LEVEL: 'warn' };
  delete env.REDIS_URL;
  return spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 60_000 });
}

/** A usage error: status 2, one line on stderr naming the problem, no stack trace. */
function assertUsageError(run: ReturnType<typeof pronto>, pattern: RegExp): void {
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, pattern);
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  assert.doesNotMatch(run.stderr, /\n\s+at /);
}

describe('pronto CLI', () => {
  test('--version prints the package version', () => {
    const run = pronto('--version');
    assert.equal(run.status, 0);
    assert.equal(run.stdout.trim(), VERSION);
  });

  test('every command answers --help with status 0', async () => {
    const names = (await createProgram()).commands.map((c) => c.name());
    assert.ok(names.includes('serve') && names.includes('ingest') && names.includes('bench'), names.join(' '));
    for (const name of names) {
      const run = pronto(name, '--help');
      assert.equal(run.status, 0, `${name}: ${run.stderr}`);
      assert.match(run.stdout, new RegExp(`Usage: pronto ${name} `));
    }
  });

  test('usage errors exit 2 with one line and no stack trace', () => {
    assertUsageError(pronto('ingest'), /missing required argument 'path'/);
    assertUsageError(pronto('eval'), /missing required argument 'beir-dir'/);
    assertUsageError(pronto('bench'), /missing required argument 'scenario'/);
    assertUsageError(pronto('bench', 'nonsense'), /Allowed choices are embed, infer, search, chat, offline/);
    assertUsageError(pronto('serve', '--port'), /option '-p, --port <n>' argument missing/);
    assertUsageError(pronto('serve', '--port', 'eighty'), /argument 'eighty' is invalid/);
    assertUsageError(pronto('serve', '--rol', 'api'), /unknown option '--rol' \(Did you mean --role\?\)/);
    assertUsageError(pronto('serve', '--role', 'both'), /Allowed choices are api, all/);
    assertUsageError(pronto('eval', 'dir', '--cv', '1'), /--cv <k>' argument '1' is invalid/);
    assertUsageError(pronto('eval', 'dir', '--cv', '3', '--adapter', 'a.json'), /--adapter and --cv exclude each other/);
    assertUsageError(pronto('frobnicate'), /unknown command 'frobnicate'/);
  });

  test('no command prints the help on stderr and exits 2', () => {
    const run = pronto();
    assert.equal(run.status, 2);
    assert.match(run.stderr, /Usage: pronto/);
  });

  test('an invalid config exits 2 and lists every problem', () => {
    const env = { ...process.env, PRONTO_CONFIG: '', PORT: 'eighty' };
    const run = spawnSync(process.execPath, [BIN, 'serve'], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /PORT is not a number: eighty/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  });

  test('a missing file is a failure (status 1) with its message, not a stack trace', () => {
    const run = pronto('ingest', '/nonexistent/pronto-cli-test.jsonl');
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /^error: .*ENOENT/m);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  });

  test('bench exits 1 when no request succeeds', async () => {
    // A loopback port that was just free: connections are refused.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const run = pronto('bench', 'embed', '--url', `http://127.0.0.1:${port}`, '--duration', '0.5', '--connections', '1');
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /no request to .* succeeded/);
  });
});
