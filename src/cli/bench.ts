import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { chatLoop } from '../../bench/lib/chat.js';
import { closedLoop } from '../../bench/lib/closed-loop.js';
import { offline } from '../../bench/lib/offline.js';
import { openLoop } from '../../bench/lib/open-loop.js';
import { httpScenario } from '../../bench/lib/scenarios.js';

const USAGE = `pronto bench SCENARIO [options]      prints one JSON object

  SCENARIO   embed | infer | search | chat   (HTTP, against a running server)
             offline                         (the model in-process, each batch size: the hardware limit)

  --url URL            server to load (default http://127.0.0.1:8080)
  --connections N      closed loop: concurrent clients (default 64)
  --rate R             open loop instead: R requests/s whatever the server does
  --duration S         seconds (default 10; offline: per batch size, default 3)
  --model NAME         embed: the embedder to ask for; offline: the model to run (default pipeline.embedder)
  --namespace NS       search: the namespace to search
  --queries FILE       search: send these queries in turn (.jsonl with a "text" field, e.g. BEIR queries.jsonl)
  --config FILE        offline: the config holding the model (default: PRONTO_CONFIG or the embedded defaults)
  --batch-sizes LIST   offline: comma-separated (default 1,8,64)`;

/** `pronto bench`: closed-loop (autocannon) or open-loop (undici) load, or the offline model limit. */
export async function runBench(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8080' },
      connections: { type: 'string', default: '64' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      model: { type: 'string' },
      namespace: { type: 'string' },
      queries: { type: 'string' },
      config: { type: 'string' },
      'batch-sizes': { type: 'string', default: '1,8,64' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [scenarioName] = positionals;
  if (values.help || !scenarioName) {
    console.log(USAGE);
    return;
  }
  const number = (flag: string, value: string) => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${flag} must be a positive number, got "${value}"`);
    return parsed;
  };

  if (scenarioName === 'offline') {
    const config = loadConfig({ file: values.config });
    const result = await offline(config, values.model ?? config.pipeline.embedder, {
      batchSizes: values['batch-sizes'].split(',').map((s) => number('batch-sizes', s)),
      durationS: number('duration', values.duration ?? '3'),
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
  const scenario = httpScenario(scenarioName, { model: values.model, namespace: values.namespace, queries });
  if (!scenario) {
    console.error(`unknown scenario "${scenarioName}"\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const durationS = number('duration', values.duration ?? '10');
  const connections = number('connections', values.connections);
  const base = { scenario: scenarioName, url: values.url };
  if (scenarioName === 'chat') {
    console.log(JSON.stringify({ ...base, ...(await chatLoop(values.url, scenario, { connections, durationS })) }));
  } else if (values.rate !== undefined) {
    const rate = number('rate', values.rate);
    // Enough sockets that a slow server cannot throttle the offered rate.
    const sockets = Math.max(connections, Math.ceil(rate / 4));
    console.log(JSON.stringify({ ...base, ...(await openLoop(values.url, scenario, { rate, durationS, connections: sockets })) }));
  } else {
    console.log(JSON.stringify({ ...base, ...(await closedLoop(values.url, scenario, { connections, durationS })) }));
  }
}
