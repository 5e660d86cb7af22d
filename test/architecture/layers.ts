import type { IConfiguration, IForbiddenRuleType } from 'dependency-cruiser';

/**
 * The layer order of src/, written down once: each layer may import the layers before it and
 * never one after it, and no module may take part in an import cycle. ./layers.test.ts checks
 * it with dependency-cruiser in `npm test`; docs/ARCHITECTURE.md draws it.
 */
export const LAYERS = [
  { name: 'ui', path: '^src/ui/', why: "the dashboard's page and browser script: served as files, importing nothing" },
  { name: 'core', path: '^src/core/', why: 'the shared foundation: errors, deadlines, batching, caches, vectors, text, redaction' },
  { name: 'config', path: '^src/config/', why: 'the one schema, composed from each domain slice' },
  { name: 'observability', path: '^src/observability/', why: 'metrics, logs, traces' },
  { name: 'models', path: '^src/models/', why: 'model roles, backends, batching, fallback chains' },
  { name: 'retrieval', path: '^src/retrieval/', why: 'stores, BM25, fusion, ingestion, evaluation' },
  { name: 'pipeline', path: '^src/pipeline/', why: 'stages and the flows that compose them' },
  { name: 'api', path: '^src/api/', why: 'request bodies to pipeline inputs, results to response bodies (HTTP, WebSocket, jobs)' },
  { name: 'jobs', path: '^src/jobs/', why: 'the queue, workers and callbacks that run flows later' },
  { name: 'runtime', path: '^src/runtime\\.ts$', why: 'the composition root: builds every service from config' },
  { name: 'server', path: '^src/server/', why: 'HTTP: Fastify app, plugins, routes' },
  { name: 'cli', path: '^src/cli/', why: 'the pronto commands' },
];

const against: IForbiddenRuleType[] = LAYERS.map((layer, i) => ({
  name: `layer-${layer.name}`,
  severity: 'error' as const,
  comment: `${layer.name} may import only the layers below it (${LAYERS.slice(0, i).map((l) => l.name).join(', ') || 'none'})`,
  from: { path: layer.path },
  to: { path: LAYERS.slice(i + 1).map((l) => l.path) },
}));

export const ruleSet = {
  forbidden: [
    // The top layer has nothing above it to forbid.
    ...against.slice(0, -1),
    {
      name: 'no-cycles',
      severity: 'error' as const,
      comment: 'an import cycle ties modules together so neither can change or load alone',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'src-not-to-tooling',
      severity: 'error' as const,
      comment: 'the shipped code never imports tests, benchmarks or deploy files',
      from: { path: '^src/' },
      to: { path: '^(test|bench|deploy)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are dependencies too: they tie the modules' designs together.
    tsPreCompilationDeps: true,
  },
} satisfies IConfiguration;
