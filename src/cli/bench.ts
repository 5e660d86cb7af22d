import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { loadConfig } from '../config/load.js';
import { parseFile } from '../retrieval/parse.js';
import { UsageError } from './command.js';
import { chatLoop } from './bench/chat.js';
import { closedLoop } from './bench/closed-loop.js';
import { ingestBench } from './bench/ingest.js';
import { grpcClosedLoop } from './bench/grpc-loop.js';
import { gatewayOverhead } from './bench/gateway.js';
import { healthzUnderLoad } from './bench/healthz.js';
import { offline } from './bench/offline.js';
import { openLoop } from './bench/open-loop.js';
import { httpScenario } from './bench/scenarios.js';

/** `pronto bench`'s options, as commander parsed them (commands/bench.ts). */
export interface BenchCliOptions {
  url: string;
  connections: number;
  rate?: number;
  duration?: number;
  requests?: number;
  model?: string;
  namespace?: string;
  queries?: string;
  config?: string;
  batchSizes: number[];
  corpus?: string;
  batch: number;
  limit?: number;
  searchRate: number;
  freshnessEvery: number;
  documentChars: number;
}

/** `pronto bench`: closed-loop (autocannon) or open-loop (undici) load, or the offline model limit. */
export async function runBench(scenarioName: string, values: BenchCliOptions): Promise<void> {
  if (scenarioName === 'gateway') {
    const result = await gatewayOverhead({ rounds: 5, requestsPerRound: 1000 });
    console.log(JSON.stringify({ scenario: 'gateway', ...result }));
    return;
  }
  if (scenarioName === 'offline') {
    const config = loadConfig({ file: values.config });
    const result = await offline(config, values.model ?? config.pipeline.embedder, {
      batchSizes: values.batchSizes,
      durationS: values.duration ?? 3,
    });
    console.log(JSON.stringify({ scenario: 'offline', ...result }));
    return;
  }

  const queries = values.queries
    ? (await readFile(values.queries, 'utf8'))
        .split('\n')
        .filter((line) => line.trim())
        .map((line) => String(JSON.parse(line).text))
    : undefined;
  if (scenarioName === 'healthz') {
    const namespace = values.namespace ?? `bench-${randomUUID().slice(0, 8)}`;
    const result = await healthzUnderLoad(values.url, { durationS: values.duration ?? 10, documentChars: values.documentChars, namespace });
    console.log(JSON.stringify({ scenario: 'healthz', url: values.url, namespace, ...result }));
    if (result.healthz.errors === result.healthz.requests) throw new Error(`/healthz never answered at ${values.url}`);
    return;
  }
  if (scenarioName === 'ingest') {
    if (!values.corpus) throw new UsageError('bench ingest needs --corpus <file>');
    const parsed = await parseFile(values.corpus);
    if (parsed.errors.length > 0) throw new Error(`${values.corpus}: ${parsed.errors[0].where}: ${parsed.errors[0].message}`);
    const documents = parsed.documents.slice(0, values.limit);
    const namespace = values.namespace ?? `bench-${randomUUID().slice(0, 8)}`;
    const result = await ingestBench(values.url, documents, {
      namespace,
      batchSize: values.batch,
      searchRate: values.searchRate,
      queries,
      freshnessEveryS: values.freshnessEvery,
    });
    console.log(JSON.stringify({ url: values.url, ...result }));
    if (result.ingest.ingested === 0) throw new Error(`no document reached ${values.url}`);
    return;
  }
  // `grpc` sends the `embed` scenario's texts to pronto.v1.Pronto/Embed, for a like-for-like comparison.
  const scenario = httpScenario(scenarioName === 'grpc' ? 'embed' : scenarioName, {
    model: values.model,
    namespace: values.namespace,
    queries,
  })!;
  const durationS = values.duration ?? 10;
  const connections = values.connections;
  if (
    values.requests !== undefined &&
    (values.rate !== undefined || !['embed', 'infer', 'infer-repeated', 'search'].includes(scenarioName))
  ) {
    throw new UsageError('--requests: closed-loop HTTP scenarios only (embed, infer, infer-repeated, search)');
  }
  const base = { scenario: scenarioName, url: values.url };
  let result: { requests: number; errors: number };
  if (scenarioName === 'grpc') {
    if (values.rate !== undefined) throw new UsageError('--rate: the grpc scenario is closed-loop only');
    result = await grpcClosedLoop(new URL(values.url).host, scenario, { connections, durationS });
  } else if (scenarioName === 'chat') {
    result = await chatLoop(values.url, scenario, { connections, durationS });
  } else if (values.rate !== undefined) {
    // Enough sockets that a slow server cannot throttle the offered rate.
    const sockets = Math.max(connections, Math.ceil(values.rate / 4));
    result = await openLoop(values.url, scenario, { rate: values.rate, durationS, connections: sockets });
  } else {
    result = await closedLoop(values.url, scenario, { connections, durationS, requests: values.requests });
  }
  console.log(JSON.stringify({ ...base, ...result }));
  if (result.requests === 0 || result.errors >= result.requests) throw new Error(`no request to ${values.url} succeeded`);
}
