import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { createProgram, runCli } from '../../src/cli/program.js';

const BIN = fileURLToPath(new URL('../../bin/pronto.js', import.meta.url));
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The program in this process, its output captured (help, usage and config errors need no child process). */
async function pronto(...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await runCli(argv, { out: (text) => (stdout += text), err: (text) => (stderr += text) });
  return { status, stdout, stderr };
}

/** A usage error: status 2, one line on stderr naming the problem, no stack trace. */
async function assertUsageError(argv: string[], pattern: RegExp): Promise<void> {
  const run = await pronto(...argv);
  assert.equal(run.status, 2, `${argv.join(' ')}: ${run.stderr}`);
  assert.match(run.stderr, pattern);
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  assert.doesNotMatch(run.stderr, /\n\s+at /);
}

/** The real executable (bin/pronto.js), for what only a process shows: its exit status and streams. */
function spawnPronto(...args: string[]) {
  const env = { ...process.env, PRONTO_CONFIG: '', LOG_LEVEL: 'warn' };
  return spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 90_000 });
}

describe('pronto CLI', () => {
  test('--version prints the package version; a usage error exits 2 with one line', () => {
    const version = spawnPronto('--version');
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), VERSION);
    const usage = spawnPronto('ingest');
    assert.equal(usage.status, 2);
    assert.equal(usage.stderr, "error: missing required argument 'path'\n");
  });

  test('every command answers --help with status 0', async () => {
    const names = (await createProgram()).commands.map((c) => c.name());
    for (const expected of ['serve', 'worker', 'ingest', 'eval', 'train-adapter', 'bench']) assert.ok(names.includes(expected), names.join(' '));
    for (const name of names) {
      const run = await pronto(name, '--help');
      assert.equal(run.status, 0, `${name}: ${run.stderr}`);
      assert.match(run.stdout, new RegExp(`^Usage: pronto ${name} `));
    }
    const top = await pronto('--help');
    assert.equal(top.status, 0);
    assert.match(top.stdout, /Exit status: 0 success, 1 failure, 2 wrong usage/);
  });

  test('usage errors exit 2 with one line and no stack trace', async () => {
    await assertUsageError(['ingest'], /missing required argument 'path'/);
    await assertUsageError(['eval'], /missing required argument 'beir-dir'/);
    await assertUsageError(['bench'], /missing required argument 'scenario'/);
    await assertUsageError(['bench', 'nonsense'], /value 'nonsense' is invalid for argument 'scenario'\. Allowed choices are embed, ([\w-]+, )*offline\./);
    await assertUsageError(['serve', '--port'], /option '-p, --port <n>' argument missing/);
    await assertUsageError(['serve', '--port', 'eighty'], /argument 'eighty' is invalid/);
    await assertUsageError(['serve', '--rol', 'api'], /unknown option '--rol' \(Did you mean --role\?\)/);
    await assertUsageError(['serve', '--role', 'both'], /Allowed choices are api, all/);
    await assertUsageError(['eval', 'dir', '--cv', '1'], /--cv <k>' argument '1' is invalid/);
    await assertUsageError(['eval', 'dir', '--cv', '3', '--adapter', 'a.json'], /--adapter and --cv exclude each other/);
    await assertUsageError(['frobnicate'], /unknown command 'frobnicate'/);
  });

  test('no command prints the help on stderr and exits 2', async () => {
    const run = await pronto();
    assert.equal(run.status, 2);
    assert.match(run.stderr, /Usage: pronto/);
  });

  test('an invalid config exits 2 and lists every problem', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pronto-cli-')), 'bad.yaml');
    writeFileSync(file, 'server:\n  role: both\nretrieval:\n  default_mode: fuzzy\n');
    const run = await pronto('serve', '--config', file);
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /^config: 2 problems\n/);
    assert.match(run.stderr, /server\.role: "both" is not one of api, all/);
    assert.match(run.stderr, /retrieval\.default_mode: "fuzzy" is not one of dense, sparse, hybrid/);
  });

  test('a missing file is a failure (status 1) with its message, not a stack trace', async () => {
    const run = await pronto('ingest', '/nonexistent/pronto-cli-test.jsonl');
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /^error: ENOENT: .*pronto-cli-test\.jsonl/);
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
    const run = await pronto('bench', 'embed', '--url', `http://127.0.0.1:${port}`, '--duration', '0.5', '--connections', '1');
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /no request to .* succeeded/);
  });
});
