import { Pool } from 'undici';
import type { HttpScenario } from './scenarios.js';
import { outcome, summarize } from './stats.js';

/**
 * Streaming chat, closed loop: each of `connections` clients posts a question and reads the SSE
 * stream, timing the first `token` event (TTFT) and the token rate after it.
 */
export async function chatLoop(url: string, scenario: HttpScenario, options: { connections: number; durationS: number }) {
  const pool = new Pool(url, { connections: options.connections });
  const ttft: number[] = [];
  const total: number[] = [];
  const tokensPerS: number[] = [];
  const statuses: Array<number | string> = [];
  const endAt = performance.now() + options.durationS * 1000;
  let n = 0;
  let generated = 0;
  async function client(): Promise<void> {
    while (performance.now() < endAt) {
      const startedAt = performance.now();
      try {
        const response = await pool.request({ method: 'POST', path: scenario.path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(scenario.body(n++)) });
        statuses.push(response.statusCode);
        let first = 0;
        let tokens = 0;
        for await (const chunk of response.body) {
          const count = String(chunk).match(/^event: token$/gm)?.length ?? 0;
          if (count > 0 && tokens === 0) first = performance.now();
          tokens += count;
        }
        const end = performance.now();
        total.push(end - startedAt);
        if (tokens > 0) {
          ttft.push(first - startedAt);
          generated += tokens;
          // The decode rate after the first token; streams that arrived in one piece have none.
          if (tokens > 1 && end - first >= 1) tokensPerS.push((tokens - 1) / ((end - first) / 1000));
        }
      } catch (err) {
        statuses.push((err as Error).name);
      }
    }
  }
  await Promise.all(Array.from({ length: options.connections }, client));
  await pool.close();
  return {
    mode: 'closed',
    connections: options.connections,
    duration_s: options.durationS,
    ...outcome(statuses, options.durationS),
    ...summarize(total),
    ttft_ms: summarize(ttft),
    /** Per stream, after its first token. */
    stream_tokens_per_s: summarize(tokensPerS),
    /** All tokens streamed to all clients per second. */
    total_tokens_per_s: Math.round(generated / options.durationS),
  };
}
