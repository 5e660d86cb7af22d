/** One request's outcome under load: its status (0: no response at all), when it was sent (`performance.now()`) and its latency. */
export interface Outcome {
  status: number;
  at: number;
  ms: number;
}

const post = async (url: string, body: unknown): Promise<Outcome> => {
  const started = performance.now();
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await res.arrayBuffer();
    return { status: res.status, at: started, ms: performance.now() - started };
  } catch {
    return { status: 0, at: started, ms: performance.now() - started };
  }
};

/** `concurrency` clients, each sending its next request when the last one answered, until `stop` aborts. */
export async function closedLoop(url: string, body: unknown, concurrency: number, stop: AbortSignal): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const client = async () => {
    while (!stop.aborted) outcomes.push(await post(url, body));
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return outcomes;
}

/** The p-th percentile (0–100) of latencies, nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Statuses and their counts, e.g. `{ "200": 812, "503": 40 }`. */
export function tally(outcomes: Array<Pick<Outcome, 'status'>>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { status } of outcomes) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}
