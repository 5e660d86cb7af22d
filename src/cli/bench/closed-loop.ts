import type autocannon from 'autocannon';
import { importOrExplain } from '../../core/optional-import.js';
import type { HttpScenario } from './scenarios.js';
import { summarize, tally } from './stats.js';

/**
 * Closed loop: `connections` clients, each sending its next request when the last answered, for
 * `durationS` seconds or, with `requests`, until that many were sent (then `duration_s` is how long
 * they took): a search over N real queries with `requests: N` sends each exactly once.
 */
export async function closedLoop(
  url: string,
  scenario: HttpScenario,
  options: { connections: number; durationS: number; requests?: number },
) {
  let n = 0;
  const latencies: number[] = [];
  const statuses: number[] = [];
  const run = await loadAutocannon();
  let instance!: autocannon.Instance;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    instance = run(
      {
        url,
        connections: options.connections,
        ...(options.requests ? { amount: options.requests } : { duration: options.durationS }),
        requests: [
          {
            method: 'POST',
            path: scenario.path,
            headers: { 'content-type': 'application/json' },
            setupRequest: (request) => ({ ...request, body: JSON.stringify(scenario.body(n++)) }),
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    latencies.push(ms);
    statuses.push(status);
  });
  const result = await finished;
  const ok = statuses.filter((s) => s < 400).length;
  return {
    mode: 'closed',
    connections: options.connections,
    duration_s: options.requests ? Math.round(result.duration * 100) / 100 : options.durationS,
    requests: latencies.length,
    rps: Math.round((ok / result.duration) * 10) / 10,
    ...summarize(latencies),
    errors: result.errors + result.timeouts + (latencies.length - ok),
    status: tally(statuses),
  };
}

/** autocannon is a development dependency (an optional peer): a production install leaves it out. */
async function loadAutocannon(): Promise<typeof autocannon> {
  const load = async () => (await import('autocannon')).default;
  return importOrExplain(
    'autocannon',
    load,
    () => new Error('closed-loop benchmarks need autocannon, which is not installed: run `npm install autocannon@9`'),
  );
}
