import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ProntoError } from '../../core/errors.js';
import type { ApiKeyRecord } from '../../config/auth.js';
import type { Config } from '../../config/schema.js';
import type { RecentRequests } from '../../observability/recent-requests.js';
import type { StatsRecorder } from '../../observability/stats.js';
import { KEYED_OPERATIONAL_ROUTE, OPERATOR_ROUTE, PUBLIC_ROUTE } from '../route-policy.js';

const page = readFileSync(new URL('../../ui/dashboard.html', import.meta.url), 'utf8');
const script = readFileSync(new URL('../../ui/dashboard.js', import.meta.url), 'utf8');
// The chart library ships inside the package (no CDN): served from its npm files.
const resolve = createRequire(import.meta.url).resolve;
const uplotScript = readFileSync(resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
const uplotStyle = readFileSync(resolve('uplot/dist/uPlot.min.css'), 'utf8');

export interface DashboardDeps {
  config: Pick<Config, 'deadline' | 'observability'>;
  /** The keys in force (auth is on while there are any). */
  keys(): readonly ApiKeyRecord[];
  stats: StatsRecorder;
  recentRequests: RecentRequests;
}

/**
 * `GET /`: the operator dashboard, and the JSON it reads: `GET /stats` (per-second aggregates of the
 * last five minutes plus a one-minute summary, with the stage budgets) and `GET /stats/requests`
 * (the last requests and their stage timings, no body text). With API keys on, /stats needs an
 * operator's key (it shows every tenant's traffic) and /stats/requests any key (it shows the
 * caller tenant's own requests); the page asks for one and keeps it in the tab's session storage.
 */
export function registerDashboardRoute(app: FastifyInstance, deps: DashboardDeps): void {
  registerDashboardAssets(app);
  registerStatsRoutes(app, deps);
}

/** The page, its script and uPlot, served from memory. */
function registerDashboardAssets(app: FastifyInstance): void {
  const asset = (path: string, type: string, body: string, summary: string) => {
    const schema = { summary, tags: ['operations'], produces: [type.split(';')[0]], response: { 200: { type: 'string', description: summary } } };
    app.get(path, { config: PUBLIC_ROUTE, schema }, async (_request, reply) => reply.type(type).header('cache-control', 'no-cache').send(body));
  };
  asset('/', 'text/html; charset=utf-8', page, 'The dashboard (HTML)');
  asset('/ui/dashboard.js', 'text/javascript; charset=utf-8', script, "The dashboard's script");
  asset('/ui/uplot.js', 'text/javascript; charset=utf-8', uplotScript, 'uPlot, the chart library (from its npm package)');
  asset('/ui/uplot.css', 'text/css; charset=utf-8', uplotStyle, "uPlot's stylesheet");
}

/** `/stats` (per-second points of the last minutes) and `/stats/requests[/:id]` (recent request waterfalls). */
function registerStatsRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  // Query strings are not coerced (ajv coerceTypes is off app-wide): numbers arrive as digit strings.
  const StatsQuery = Type.Object({ since: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'Epoch ms: only newer points' })) });
  app.get<{ Querystring: Static<typeof StatsQuery> }>(
    '/stats',
    {
      config: OPERATOR_ROUTE,
      schema: {
        summary: 'Per-second statistics of the last five minutes (the dashboard reads this)',
        tags: ['operations'],
        querystring: StatsQuery,
        response: { 200: Type.Unknown({ description: '{auth, budgets_ms, slow_request_ms, window_s, window, points}: see docs/API.md' }) },
      },
    },
    async (request) => ({
      auth: deps.keys().length > 0,
      budgets_ms: deps.config.deadline.budgets,
      slow_request_ms: deps.config.observability.slow_request_ms,
      window_s: deps.stats.windowSeconds,
      window: deps.stats.window(),
      points: deps.stats.points(Number(request.query.since ?? 0)),
    }),
  );

  const ListQuery = Type.Object({ limit: Type.String({ pattern: '^(?:[1-9][0-9]?|1[0-9][0-9]|200)$', default: '50', description: '1 to 200' }) });
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/stats/requests',
    {
      config: KEYED_OPERATIONAL_ROUTE,
      schema: {
        summary: 'The last requests of the caller tenant with their stage timings (no body text)',
        tags: ['operations'],
        querystring: ListQuery,
        response: { 200: Type.Unknown({ description: '{requests: [{request_id, at, route, status, latency_ms, timings, degraded, trace_id, variant, steps?}]}; steps: a flow\'s steps {name, kind, status, start_ms, ms, part?, ids?, degraded?}' }) },
      },
    },
    async (request) => ({ requests: deps.recentRequests.list(request.tenant, Number(request.query.limit)) }),
  );
  app.get<{ Params: { id: string } }>(
    '/stats/requests/:id',
    {
      config: KEYED_OPERATIONAL_ROUTE,
      schema: {
        summary: 'One recent request: its stage waterfall and degradations',
        tags: ['operations'],
        params: Type.Object({ id: Type.String() }),
        response: { 200: Type.Unknown({ description: '{request_id, at, route, status, latency_ms, timings, degraded, trace_id, variant, steps?}' }) },
      },
    },
    async (request) => {
      const found = deps.recentRequests.get(request.tenant, request.params.id);
      if (!found) throw new ProntoError('not_found', `no recent request "${request.params.id}"`, { field: 'id' });
      return found;
    },
  );
}
