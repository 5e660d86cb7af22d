import { readFile } from 'node:fs/promises';
import { loadConfig } from '../config/load.js';
import { chatLoop } from './bench/chat.js';
import { closedLoop } from './bench/closed-loop.js';
import { offline } from './bench/offline.js';
import { openLoop } from './bench/open-loop.js';
import { httpScenario } from './bench/scenarios.js';

/** `pronto bench`'s options, as commander parsed them (commands/bench.ts). */
export interface BenchCliOptions {
  url: string;
  connections: number;
  rate?: number;
  duration?: number;
  model?: string;
  namespace?: string;
  queries?: string;
  config?: string;
  batchSizes: number[];
}

/** `pronto bench`: closed-loop (autocannon) or open-loop (undici) load, or the offline model limit. */
export async function runBench(scenarioName: string, values: BenchCliOptions): Promise<void> {
  if (scenarioName === 'offline') {
    const config = loadConfig({ file: values.config });
    const result = await offline(config, values.model ?? config.pipeline.embedder, { batchSizes: values.batchSizes, durationS: values.duration ?? 3 });
    console.log(JSON.stringify({ scenario: 'offline', ...result }));
    return;
  }

  const queries = values.queries
    ? (await readFile(values.queries, 'utf8'))
        .split('\n')
        .filter((line) => line.trim())
        .map((line) => String(JSON.parse(line).text))
    : undefined;
  const scenario = httpScenario(scenarioName, { model: values.model, namespace: values.namespace, queries })!;
  const durationS = values.duration ?? 10;
  const connections = values.connections;
  const base = { scenario: scenarioName, url: values.url };
  let result: { requests: number; errors: number };
  if (scenarioName === 'chat') {
    result = await chatLoop(values.url, scenario, { connections, durationS });
  } else if (values.rate !== undefined) {
    // Enough sockets that a slow server cannot throttle the offered rate.
    const sockets = Math.max(connections, Math.ceil(values.rate / 4));
    result = await openLoop(values.url, scenario, { rate: values.rate, durationS, connections: sockets });
  } else {
    result = await closedLoop(values.url, scenario, { connections, durationS });
  }
  console.log(JSON.stringify({ ...base, ...result }));
  if (result.requests === 0 || result.errors >= result.requests) throw new Error(`no request to ${values.url} succeeded`);
}
