// Soak (issue 11): the cluster of `npm run test:cluster` (nginx, 2 api processes, 2 workers, one
// shared index, their own Redis; sim embedder, extractive generator) under mixed load for
// --minutes: searches (sparse and hybrid), answers, document upserts over a fixed pool of ids (so
// the index stops growing), deletes and ingest jobs, all through nginx from --clients closed-loop
// clients. Every --window seconds it prints one JSON line: each process's RSS and open file
// descriptors (and an api's V8 heap), and each kind's requests, statuses, p50 and p99. At the end, a summary that compares
// the first window after warm-up with the last; it exits 1 when a process grew past the bounds
// (--rss-mb, --fds), so a leak fails the run.
//
//   node --import tsx bench/soak.ts [--minutes 10] [--clients 6] [--window 30] [--rss-mb 64] [--fds 16]
//
// Not part of any test suite (10 minutes). Needs nginx and redis-server, as test:cluster does.
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { clusterUnavailable, startCluster, type Cluster } from '../test/cluster/support/cluster.js';
import { percentile, tally } from '../test/cluster/support/load.js';
import { openFds, rssMb } from '../test/cluster/support/proc.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    clients: { type: 'string', default: '6' },
    window: { type: 'string', default: '30' },
    'rss-mb': { type: 'string', default: '64' },
    fds: { type: 'string', default: '16' },
  },
});
const durationMs = Number(values.minutes) * 60_000;
const windowMs = Number(values.window) * 1000;
const NS = 'soak';
/** Document ids cycle through this pool: upserts replace, so the index reaches a steady size. */
const POOL = 500;

/** A vocabulary of made-up words, so searches match a handful of documents each. */
const WORDS = Array.from({ length: 400 }, (_, i) => `w${(i * 7919).toString(36)}`);
const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)];
const words = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join(' ');
const docId = () => `d${Math.floor(Math.random() * POOL)}`;
const documentBody = (id: string) => ({ id, text: `The ${words(3)} report: ${words(40)}.` });

interface Sample {
  kind: string;
  status: number;
  at: number;
  ms: number;
}

/** The mix: a kind, its share of requests, and the request. */
const MIX: Array<{ kind: string; weight: number; send: (url: string) => Promise<Response> }> = [
  { kind: 'search-sparse', weight: 35, send: (url) => post(url, '/v1/search', { query: words(3), namespace: NS, mode: 'sparse', top_k: 5 }) },
  { kind: 'search-hybrid', weight: 25, send: (url) => post(url, '/v1/search', { query: words(3), namespace: NS, mode: 'hybrid', top_k: 5 }) },
  { kind: 'infer', weight: 15, send: (url) => post(url, '/v1/infer', { text: `What is ${words(2)}?`, namespace: NS, top_k: 3 }) },
  { kind: 'upsert', weight: 15, send: (url) => post(url, '/v1/documents', { namespace: NS, documents: [documentBody(docId())] }) },
  { kind: 'delete', weight: 5, send: (url) => fetch(`${url}/v1/documents/${docId()}?namespace=${NS}`, { method: 'DELETE' }) },
  {
    kind: 'job',
    weight: 5,
    send: (url) => post(url, '/v1/jobs', { kind: 'ingest', input: { namespace: NS, documents: [documentBody(docId())] } }),
  },
];
const TOTAL_WEIGHT = MIX.reduce((sum, m) => sum + m.weight, 0);

function post(url: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

function choose() {
  let r = Math.random() * TOTAL_WEIGHT;
  for (const m of MIX) if ((r -= m.weight) < 0) return m;
  return MIX[0];
}

async function client(url: string, samples: Sample[], stop: AbortSignal): Promise<void> {
  while (!stop.aborted) {
    const { kind, send } = choose();
    const at = performance.now();
    let status = 0;
    try {
      const res = await send(url);
      await res.arrayBuffer();
      status = res.status;
    } catch {
      // no answer at all: status 0
    }
    samples.push({ kind, status, at, ms: performance.now() - at });
  }
}

/**
 * Each pronto process: its name, RSS and open descriptors now, and for an api its V8 heap in use
 * (from its /metrics): RSS growing while the heap does not is native memory (LanceDB's caches).
 */
async function processes(cluster: Cluster) {
  const apis = await Promise.all(cluster.apis.map(async (m, i) => ({ name: `api${i}`, m, heapMb: await heapUsedMb(cluster.apiUrl(i)) })));
  const members = [...apis, ...cluster.workers.map((m, i) => ({ name: `worker${i}`, m, heapMb: undefined }))];
  return members.map(({ name, m, heapMb }) => ({ name, rssMb: rssMb(m.child.pid!), heapMb, fds: openFds(m.child.pid!) }));
}

async function heapUsedMb(apiUrl: string): Promise<number | undefined> {
  const text = await fetch(`${apiUrl}/metrics`).then(
    (res) => res.text(),
    () => '',
  );
  const bytes = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1];
  return bytes === undefined ? undefined : Math.round(Number(bytes) / 2 ** 20);
}

function windowStats(samples: Sample[]) {
  const kinds: Record<string, { n: number; statuses: Record<string, number>; p50: number; p99: number }> = {};
  for (const { kind } of MIX) {
    const of = samples.filter((s) => s.kind === kind);
    const ms = of.map((s) => s.ms);
    kinds[kind] = { n: of.length, statuses: tally(of), p50: round(percentile(ms, 50)), p99: round(percentile(ms, 99)) };
  }
  const ms = samples.map((s) => s.ms);
  return { requests: samples.length, p50: round(percentile(ms, 50)), p99: round(percentile(ms, 99)), kinds };
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** The error lines (pino level 50 and up) of every pronto process, counted by message. */
function serverErrorKinds(cluster: Cluster): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const member of [...cluster.apis, ...cluster.workers]) {
    for (const line of member.output().split('\n')) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      if ((entry.level ?? 0) < 50) continue;
      const kind = `${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message.slice(0, 160)}` : ''}`;
      kinds[kind] = (kinds[kind] ?? 0) + 1;
    }
  }
  return kinds;
}

/** nginx's error log, counted by message (what a 502 came from: a reset, a refused connect...). */
function nginxErrorKinds(log: string): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const line of log.split('\n')) {
    const kind = /\[(?:error|warn)\] [^*]*\*\d+ (.*?)(?:, client:|$)/.exec(line)?.[1];
    if (kind) kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

async function main(): Promise<void> {
  const unavailable = clusterUnavailable();
  if (unavailable) throw new Error(unavailable);
  const cluster = await startCluster({ maxInFlight: 8, embedMs: 20 });
  try {
    // The pool, written once, so every search and answer has documents to find from the start.
    for (let i = 0; i < POOL; i += 50) {
      const documents = Array.from({ length: 50 }, (_, j) => documentBody(`d${i + j}`));
      const res = await post(cluster.url, '/v1/documents', { namespace: NS, documents });
      if (res.status !== 200) throw new Error(`seeding failed: ${res.status} ${await res.text()}`);
    }
    const samples: Sample[] = [];
    const stop = new AbortController();
    const started = performance.now();
    const clients = Array.from({ length: Number(values.clients) }, () => client(cluster.url, samples, stop.signal));
    const windows: Array<ReturnType<typeof windowStats> & { minute: number; processes: Awaited<ReturnType<typeof processes>>; load: number }> = [];
    for (let end = started + windowMs; end <= started + durationMs; end += windowMs) {
      await new Promise((resolve) => setTimeout(resolve, end - performance.now()));
      const inWindow = samples.filter((s) => s.at + s.ms > end - windowMs && s.at + s.ms <= end);
      const row = { minute: round((end - started) / 60_000), ...windowStats(inWindow), processes: await processes(cluster), load: round(loadavg()[0]) };
      windows.push(row);
      console.log(JSON.stringify(row));
    }
    stop.abort();
    await Promise.all(clients);

    // The first window is warm-up (JIT, caches, the index reaching its size): compare from the second.
    const first = windows[Math.min(1, windows.length - 1)];
    const last = windows[windows.length - 1];
    const growth = last.processes.map((p, i) => ({
      name: p.name,
      rssMb: `${first.processes[i].rssMb} -> ${p.rssMb}`,
      rssGrowthMb: p.rssMb - first.processes[i].rssMb,
      heapMb: p.heapMb === undefined ? undefined : `${first.processes[i].heapMb} -> ${p.heapMb}`,
      fds: `${first.processes[i].fds} -> ${p.fds}`,
      fdGrowth: p.fds - first.processes[i].fds,
    }));
    const errors = samples.filter((s) => s.status === 0 || s.status >= 500);
    const leaks = growth.filter((g) => g.rssGrowthMb > Number(values['rss-mb']) || g.fdGrowth > Number(values.fds));
    console.log(
      JSON.stringify({
        summary: {
          minutes: Number(values.minutes),
          requests: samples.length,
          statuses: tally(samples),
          errors: errors.length,
          p99ByWindow: windows.map((w) => w.p99),
          processes: growth,
          bounds: { rssMb: Number(values['rss-mb']), fds: Number(values.fds) },
          leaks: leaks.map((l) => l.name),
          nginxErrors: nginxErrorKinds(cluster.nginxErrors()),
          serverErrors: serverErrorKinds(cluster),
        },
      }),
    );
    process.exitCode = leaks.length > 0 ? 1 : 0;
  } finally {
    await cluster.close();
  }
}

await main();
