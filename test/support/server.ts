import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig, type DeepPartial } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { RuntimeOptions } from '../../src/runtime.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';

/** One memo of sample-corpus vectors for every server this test process starts (see RuntimeOptions). */
const sampleCorpusVectors = new Map<string, Map<string, Float32Array>>();

const UNTIMED_BUDGETS = { sanitize: 30_000, features: 30_000, embed: 30_000, retrieve: 30_000, rerank: 30_000, generate: 30_000, postprocess: 30_000 };

export interface TestServer extends RunningServer {
  /** Every log line the server wrote, as text (to check nothing sensitive is logged). */
  logs(): string;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
}

/**
 * Starts the real server on an ephemeral port over a scratch data dir, waits for readiness, and
 * cleans up on close. Overrides go on top of the embedded defaults.
 */
export async function startTestServer(overrides: DeepPartial<Config> = {}, options: RuntimeOptions & { waitReady?: boolean } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pronto-test-'));
  const config = loadConfig({
    env: {},
    overrides: {
      data_dir: dataDir,
      ...overrides,
      // Stage budgets are timing: on a loaded machine a 300 ms retrieve budget runs out and a test
      // of something else sees a fallback (empty hits). Tests get budgets no load can exhaust;
      // tests of a budget set that one stage's budget and make the stage stall far beyond it.
      deadline: { default_ms: 60_000, ...overrides.deadline, budgets: { ...UNTIMED_BUDGETS, ...overrides.deadline?.budgets } },
      // Lag shedding is load-dependent (a shared CI machine lags): tests that want it turn it on.
      server: { host: '127.0.0.1', port: 0, drain_ms: 0, shutdown_grace_ms: 2000, max_event_loop_delay_ms: 0, ...overrides.server },
      observability: { log_level: 'debug', ...overrides.observability },
    },
  });
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = pino({ level: config.observability.log_level }, sink);
  const server = await startServer(config, { logger, defaultMetrics: false, sampleCorpusVectors, ...options });
  try {
    if (options.waitReady !== false) await server.ready;
  } catch (err) {
    // A failed start-up still listens and holds loaded models: release them, or the test hangs.
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    ...server,
    logs: () => lines.join(''),
    post: (path, body, headers = {}) =>
      fetch(server.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Parses a server-sent event stream into `{event, data}` records, as they arrive. */
export async function* readSse(response: Response): AsyncGenerator<{ event: string; data: any }> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (data !== undefined) yield { event, data: data === '[DONE]' ? data : JSON.parse(data) };
    }
  }
}

/** The value of one Prometheus sample (summing series whose labels include all of `labels`). */
export async function metricValue(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(\{[^}]*\})? (.+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const wanted = Object.entries(labels).every(([k, v]) => match[2]?.includes(`${k}="${v}"`));
    if (wanted) total += Number(match[3]);
  }
  return total;
}

/** How many generate stages have ended as cancelled (a client went away mid-answer). */
export function cancelledGenerations(url: string): Promise<number> {
  return metricValue(url, 'pronto_stage_duration_seconds_count', { stage: 'generate', outcome: 'cancelled' });
}

/** Waits (bounded, ~2 s) for the server to notice a cancel: exactly one more generate stage ended as cancelled. */
export async function expectOneMoreCancelledGeneration(url: string, before: number): Promise<void> {
  for (let i = 0; i < 100 && (await cancelledGenerations(url)) <= before; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(await cancelledGenerations(url), before + 1);
}
