import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startOwnRedis, type OwnRedis } from '../../support/redis-server.js';
import { startReceiver } from '../../jobs/support/receiver.js';

/** Why the cluster cannot run here (no nginx, no redis-server), or false. */
export function clusterUnavailable(): string | false {
  if (spawnSync('nginx', ['-v']).error) return 'nginx is not installed (Debian package `nginx`; .ci/run installs it)';
  if (spawnSync('redis-server', ['--version']).error) return 'redis-server is not installed';
  return false;
}

/** A pronto process of the cluster: its child, its output so far, and its port for an api. */
export interface Member {
  child: ChildProcess;
  port?: number;
  output(): string;
}

const isAlive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/**
 * The deployment of deploy/compose.yaml on loopback: nginx (the shipped deploy/nginx/nginx.conf,
 * with the two api replicas as fixed upstreams: the open-source `resolve` needs nginx 1.27.3)
 * in front of two `pronto serve --role api` processes and two `pronto worker` processes, all on
 * one data dir (the shared index) and their own Redis (AOF, free port), which a test may kill and
 * restart. A sim embedder (a fixed cost per call, no model to load) keeps it fast.
 */
export async function startCluster(options: { maxInFlight: number; embedMs: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'pronto-cluster-'));
  const redis = (await startOwnRedis()) as OwnRedis;
  const receiver = await startReceiver();
  const configFile = join(dir, 'pronto.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      redis_url: redis.url,
      data_dir: join(dir, 'data'),
      models: [
        { name: 'sim-embed', role: 'embedder', backend: 'sim', options: { base_ms: options.embedMs, per_item_ms: 0, dimensions: 32 } },
        { name: 'extractive', role: 'generator', backend: 'extractive' },
      ],
      pipeline: { embedder: 'sim-embed' },
      sample_corpus: { enabled: false },
      server: { role: 'api', drain_ms: 500, shutdown_grace_ms: 2000, max_in_flight: options.maxInFlight },
      rate_limit: { enabled: false },
      jobs: { concurrency: 1, lock_ms: 2000, stalled_interval_ms: 1000, backoff_ms: 50, callbacks: { allow_private: true, backoff_ms: 50 } },
      observability: { log_level: 'info' },
    }),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, PRONTO_CONFIG: configFile, REDIS_URL: redis.url };
  delete env.PRONTO_DATA_DIR;

  async function launch(args: string[], readyLine: string, port?: number): Promise<Member> {
    const child = spawn(process.execPath, ['bin/pronto.js', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (out.includes(readyLine)) resolve();
        else if (!isAlive(child)) reject(new Error(`${args.join(' ')} exited before it was ready:\n${out}`));
        else setTimeout(check, 50);
      };
      check();
    });
    return { child, port, output: () => out };
  }

  const apiPorts = [await freePort(), await freePort()];
  const startApi = (i: number) => launch(['serve', '--port', String(apiPorts[i])], 'pronto is ready', apiPorts[i]);
  const startWorker = () => launch(['worker'], 'job worker ready');
  // One first: two replicas creating the same empty store at once is not what is under test.
  const apis = [await startApi(0)];
  apis.push(await startApi(1));
  const workers = await Promise.all([startWorker(), startWorker()]);
  const nginx = await startNginx(dir, apiPorts);

  return {
    url: nginx.url,
    apiUrl: (i: number) => `http://127.0.0.1:${apiPorts[i]}`,
    apis,
    workers,
    redis,
    receiver,
    async restartApi(i: number) {
      apis[i] = await startApi(i);
    },
    async addWorker() {
      const member = await startWorker();
      workers.push(member);
      return member;
    },
    nginxErrors: () => readFileSync(join(dir, 'error.log'), 'utf8'),
    async close() {
      const members = [...apis, ...workers].filter((m) => isAlive(m.child));
      await Promise.all(
        members.map((m) => {
          const exited = once(m.child, 'exit');
          m.child.kill('SIGKILL');
          return exited;
        }),
      );
      await nginx.close();
      await receiver.close();
      await redis.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Cluster = Awaited<ReturnType<typeof startCluster>>;

/** Kills a member as a crash would (SIGKILL) and waits until it is gone. */
export async function crash(member: Member): Promise<void> {
  if (!isAlive(member.child)) return;
  const exited = once(member.child, 'exit');
  member.child.kill('SIGKILL');
  await exited;
}

/** The shipped nginx.conf with loopback upstreams, a free port and its files under `dir`. */
async function startNginx(dir: string, apiPorts: number[]) {
  const port = await freePort();
  const home = join(dir, 'nginx');
  mkdirSync(home);
  const shipped = readFileSync('deploy/nginx/nginx.conf', 'utf8');
  const upstreams = apiPorts.map((p) => `server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n    ');
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `${kind}_temp_path ${join(home, kind)};`).join('\n  ');
  const conf = shipped
    .replace(/^\s*resolver .*$/m, `  access_log off;\n  ${temp}`)
    .replace(/^\s*server api:\d+ resolve .*$/m, `    ${upstreams}`)
    .replace(/^\s*listen \d+;$/m, `    listen 127.0.0.1:${port};`);
  assertReplaced(conf, port);
  // As root, nginx's workers would run as `nobody`, who cannot write the temp dirs made here.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  const confFile = join(home, 'nginx.conf');
  writeFileSync(confFile, `${user}pid ${join(home, 'nginx.pid')};\nerror_log ${join(dir, 'error.log')} warn;\n${conf}`);
  const child = spawn('nginx', ['-p', home, '-c', confFile, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    const up = await fetch(`${url}/healthz`).then(
      (res) => res.ok,
      () => false,
    );
    if (up) break;
    if (!isAlive(child) || tries > 200) throw new Error(`nginx did not start: ${err}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    async close() {
      if (!isAlive(child)) return;
      const exited = once(child, 'exit');
      child.kill('SIGQUIT');
      await exited;
    },
  };
}

/** The shipped config changed shape: say so instead of testing something else. */
function assertReplaced(conf: string, port: number): void {
  if (!conf.includes(`listen 127.0.0.1:${port};`) || conf.includes(' resolve ') || conf.includes('resolver ')) {
    throw new Error('deploy/nginx/nginx.conf no longer has the resolver/upstream/listen lines this test rewrites');
  }
}
