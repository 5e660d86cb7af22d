import { randomUUID } from 'node:crypto';

/**
 * The HTTP scenarios: which route each one hits and a request body per call. Every body differs
 * (a run id and a counter in the text) so the embedding cache cannot answer instead of the model,
 * in this run or the next; except `infer-repeated`'s, which measures the results cache.
 */
export interface HttpScenario {
  path: string;
  body(n: number): unknown;
}

const QUESTIONS = [
  'How do deadlines propagate through the pipeline?',
  'What happens when the model queue is full?',
  'Why does micro-batching raise throughput?',
  'How is a degraded answer flagged?',
];

export interface ScenarioOptions {
  /** embed: the embedder to ask for. */
  model?: string;
  /** search: the namespace to search. */
  namespace?: string;
  /** search: real queries to send in turn (e.g. a BEIR queries.jsonl) instead of the built-in questions. */
  queries?: string[];
}

export function httpScenario(name: string, options: ScenarioOptions = {}): HttpScenario | undefined {
  const { model, namespace, queries } = options;
  const run = randomUUID().slice(0, 8);
  const question = (n: number) => `${QUESTIONS[n % QUESTIONS.length]} (${run} ${n})`;
  switch (name) {
    case 'embed':
      return { path: '/v1/embeddings', body: (n) => ({ input: `benchmark sentence ${run} number ${n}`, ...(model ? { model } : {}) }) };
    case 'infer':
      return { path: '/v1/infer', body: (n) => ({ text: question(n) }) };
    case 'infer-repeated':
      // One question again and again: after the first, the results cache answers (cache.results).
      return { path: '/v1/infer', body: () => ({ text: `${QUESTIONS[0]} (${run})` }) };
    case 'search':
      return {
        path: '/v1/search',
        // Real queries repeat once the list is used up: from then on the query-embedding cache answers.
        body: (n) => ({ query: queries?.length ? queries[n % queries.length] : question(n), ...(namespace ? { namespace } : {}) }),
      };
    case 'chat':
      return { path: '/v1/chat', body: (n) => ({ text: question(n), stream: true }) };
    default:
      return undefined;
  }
}
