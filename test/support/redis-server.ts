import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A free loopback port (the OS picks it; it is released before the caller binds it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface OwnRedis {
  url: string;
  /** Stops it as an outage would (SIGKILL: no goodbye to clients); its AOF survives. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data (AOF replayed). */
  start(): Promise<void>;
  /** Stops it for good and removes its data. */
  close(): Promise<void>;
}

/**
 * A redis-server of the test's own, on loopback and a free port, with AOF (fsync on every write,
 * so a kill loses nothing it acknowledged): tests can kill and restart it. Undefined when no
 * redis-server binary is installed.
 */
export async function startOwnRedis(): Promise<OwnRedis | undefined> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pronto-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    '--save',
    '',
  ];

  async function start(): Promise<void> {
    const proc = spawn('redis-server', args, { stdio: 'ignore' });
    const failed = once(proc, 'error').then(([err]) => {
      throw err;
    });
    child = proc;
    const until = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      // Refused connections are expected while the server starts: connect() rejects with them.
      probe.on('error', () => undefined);
      try {
        await Promise.race([probe.connect().then(() => probe.ping()), failed]);
        return;
      } catch (err) {
        if (Date.now() > until || (err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        probe.disconnect();
      }
    }
  }

  async function kill(): Promise<void> {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  try {
    await start();
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    url,
    kill,
    start,
    async close() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
