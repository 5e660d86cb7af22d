import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.js';

const USAGE = `pronto — real-time RAG chat, search and embeddings

  pronto serve [--config FILE] [--port N] [--role api|all]
  pronto worker [--config FILE]                 consume the job queue (needs REDIS_URL)
  pronto ingest PATH... [--namespace NS]        .jsonl (BEIR or {id,text,metadata}), .md, .txt
  pronto eval BEIR_DIR [--split test|train] [--mode dense|sparse|hybrid] [--rerank] [--adapter FILE | --cv K]
  pronto train-adapter BEIR_DIR [--split train] [--out FILE]   learn a query adapter from judged queries
  pronto bench SCENARIO [--url URL] [--connections N] [--duration S]

Environment: PORT, PRONTO_CONFIG, PRONTO_DATA_DIR, REDIS_URL, LOG_LEVEL, OTEL_EXPORTER_OTLP_ENDPOINT`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'worker':
      return (await import('./worker.js')).runWorker(rest);
    case 'ingest':
      return (await import('./ingest.js')).runIngest(rest);
    case 'eval':
      return (await import('./eval.js')).runEval(rest);
    case 'train-adapter':
      return (await import('./train-adapter.js')).runTrainAdapter(rest);
    case 'bench':
      return (await import('./bench.js')).runBench(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    default:
      console.error(`unknown command "${command}"\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string' }, port: { type: 'string' }, role: { type: 'string' } },
  });
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !Number.isInteger(port)) throw new ConfigError('server.port', `--port is not a number: ${values.port}`);
  const config = loadConfig({
    file: values.config,
    overrides: { server: { port, role: values.role as 'api' | 'all' | undefined } },
  });
  const { serveForever } = await import('../server/serve.js');
  await serveForever(config);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof ConfigError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? String((err as Error).message) : err);
  process.exit(1);
});
