import { Argument, Command, Option } from 'commander';
import { number, wholeNumber } from '../command.js';

export default function bench(): Command {
  return new Command('bench')
    .description('load a running server (closed or open loop), or the model in-process; prints one JSON object')
    .addArgument(
      new Argument(
        '<scenario>',
        'embed | infer | search | chat: HTTP against --url; infer-repeated: one /v1/infer question again and again (the results cache); grpc: embed over gRPC against --url grpc://HOST:PORT; ingest: --corpus through POST /v1/documents, one request at a time; healthz: /healthz every 10 ms while one client POSTs a --document-chars document again and again; gateway: an in-process server with API key auth, a per-key limit and three variants off and on, in alternating rounds (what they add to p50); offline: the model in-process at each batch size',
      ).choices(['embed', 'grpc', 'infer', 'infer-repeated', 'search', 'chat', 'ingest', 'healthz', 'gateway', 'offline']),
    )
    .option('--url <url>', 'server to load', 'http://127.0.0.1:8080')
    .option('--connections <n>', 'closed loop: concurrent clients', wholeNumber(1), 64)
    .option('--rate <r>', 'open loop instead: r requests/s whatever the server does', number(0, true))
    .option('--duration <s>', 'seconds (default 10; offline: per batch size, default 3)', number(0, true))
    .option(
      '--requests <n>',
      'closed loop: stop after n requests instead of --duration (search --queries with n = their count: each query once)',
      wholeNumber(1),
    )
    .option('--model <name>', 'embed: the embedder to ask for; offline: the model to run (default pipeline.embedder)')
    .option('--namespace <ns>', 'search: the namespace to search; ingest: to fill (default: a new one per run)')
    .option('--queries <file>', 'search, ingest: send these queries in turn (.jsonl with a "text" field)')
    .option('--corpus <file>', 'ingest: the documents (.jsonl, BEIR or {id,text})')
    .option('--batch <n>', 'ingest: documents per request', wholeNumber(1), 16)
    .option('--limit <n>', 'ingest: only the first n documents', wholeNumber(1))
    .option('--search-rate <r>', 'ingest: searches/s from a second client while ingesting (open loop)', number(0), 0)
    .option('--freshness-every <s>', 'ingest: every s seconds, time how soon a new document is found after its POST', number(0), 0)
    .option('--document-chars <n>', 'healthz: characters of the document each heavy request carries', wholeNumber(1), 1_000_000)
    .option('-c, --config <file>', 'offline: the config holding the model (default: PRONTO_CONFIG or the embedded defaults)')
    .addOption(
      new Option('--batch-sizes <list>', 'offline: comma-separated batch sizes').default([1, 8, 64], '1,8,64').argParser(batchSizes),
    )
    .addHelpText('after', '\nExits 1 when no request succeeded.')
    .action(async (scenario: string, options: import('../bench.js').BenchCliOptions) => {
      const { runBench } = await import('../bench.js');
      await runBench(scenario, options);
    });
}

function batchSizes(value: string): number[] {
  return value.split(',').map(wholeNumber(1));
}
