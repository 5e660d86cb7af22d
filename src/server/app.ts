import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Runtime } from '../runtime.js';
import { createAdmission, type Admission, type AdmissionState } from './front/admission.js';
import { createAuthenticator, type Authenticator } from './front/auth.js';
import { rateLimited } from './front/rate-limit.js';
import { AJV_OPTIONS } from './front/validation.js';
import { registerAdmission } from './plugins/admission.js';
import { registerAuth } from './plugins/auth.js';
import { MAX_PARAM_LENGTH, clientError, frameworkError, registerErrorHandler } from './plugins/errors.js';
import { registerHttpMetrics } from './plugins/http-metrics.js';
import { registerJsonBodyParser } from './plugins/json-body.js';
import { fallbackRateLimitStore } from './plugins/rate-limit-store.js';
import { registerRequestContext, type VariantSeat } from './plugins/request-context.js';
import { registerRequestId, requestIdGenerator } from './plugins/request-id.js';
import { registerUnreadBodyDrain } from './plugins/unread-body.js';
import { registerRequestObserver } from './plugins/request-observer.js';
import { registerAnswerRoutes } from './routes/answer.js';
import { registerChatCompletionsRoute } from './routes/chat-completions.js';
import { registerChatWebSocketRoute } from './routes/chat-ws.js';
import { registerDashboardRoute } from './routes/dashboard.js';
import { registerDocumentRoutes } from './routes/documents.js';
import { registerFeedbackRoute } from './routes/feedback.js';
import { registerFeedbackSummaryRoute } from './routes/feedback-summary.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerEmbeddingsRoute } from './routes/embeddings.js';
import { registerOperationalRoutes } from './routes/health.js';
import { registerModelsRoute } from './routes/models.js';
import { registerSearchRoute } from './routes/search.js';
import { documentWebSocketRoutes, openApiOptions } from './openapi.js';
import { PUBLIC_ROUTE, isOperationalRoute } from './route-policy.js';
import { createSchemas } from './schemas.js';
import { VERSION } from '../core/version.js';
import './types.js';

export interface App {
  server: FastifyInstance;
  /**
   * Readiness and shutdown, shared with the admission and /readyz: `draining` turns /readyz (and
   * gRPC health) 503 while requests are still served; `shuttingDown` refuses new work too.
   */
  state: AdmissionState & { draining: boolean; shuttingDown: boolean };
  /** The decisions every transport shares (the gRPC front makes them through these too). */
  front: FrontDoor;
}

export interface FrontDoor {
  auth: Authenticator;
  admission: Admission;
  /** True while the event loop lags past server.max_event_loop_delay_ms. */
  lagging(): boolean;
  /** The HTTP rate limit's own check, on the same store (so one budget spans both transports). */
  rateLimit?: ReturnType<FastifyInstance['createRateLimit']>;
}

/** Builds the HTTP app over a runtime. Many apps can live in one process (tests do this). */
export async function buildApp(runtime: Runtime): Promise<App> {
  const { config } = runtime;
  const server = Fastify({
    loggerInstance: runtime.logger as FastifyBaseLogger,
    genReqId: requestIdGenerator(runtime.redactor),
    // Fastify's own request lines log the raw URL (ids, namespaces: PII); ./plugins/request-observer.ts
    // logs each request once, by its route template, when the response is done.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.server.body_limit_bytes,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: frameworkError,
    clientErrorHandler: clientError,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { ...AJV_OPTIONS } },
  });
  const state = {
    draining: false,
    shuttingDown: false,
    get ready() {
      return runtime.ready;
    },
  };

  registerJsonBodyParser(server);
  registerErrorHandler(server, runtime.redactor);
  registerRequestId(server);
  registerUnreadBodyDrain(server);
  // Before auth and admission: its onRequest hook marks upgrade requests so that a refused upgrade
  // (401, 503) has its socket closed after the response instead of held open until shutdown.
  await server.register(fastifyWebsocket, { options: { maxPayload: config.server.body_limit_bytes } });
  const auth = createAuthenticator(runtime.keys);
  const admission = createAdmission(config.server, runtime.metrics, state);
  registerAuth(server, auth);
  await registerAdmission(server, config.server, admission, state);
  registerHttpMetrics(server, runtime.metrics);
  registerRequestObserver(server, runtime);
  if (config.rate_limit.enabled) await registerRateLimit(server, runtime);
  // x-pronto-variant is honoured for keys with allow_variant_override (and for everyone while no keys are configured).
  const variants: VariantSeat = { router: runtime.variants, mayForce: (request) => request.apiKey.allow_variant_override };
  registerRequestContext(server, config, runtime.tracing, variants);
  documentWebSocketRoutes(server);
  await registerApiDocs(server, config);

  const schemas = createSchemas(config);
  registerOperationalRoutes(server, runtime, state, schemas);
  registerDashboardRoute(server, runtime);
  registerAnswerRoutes(server, runtime, schemas);
  registerChatWebSocketRoute(server, { config, pipeline: runtime.pipeline, variants }, schemas);
  registerSearchRoute(server, runtime, schemas);
  registerEmbeddingsRoute(server, runtime, schemas);
  registerChatCompletionsRoute(server, runtime, schemas);
  registerModelsRoute(server, runtime, schemas);
  registerDocumentRoutes(server, runtime, schemas);
  registerFeedbackRoute(server, runtime, schemas);
  registerFeedbackSummaryRoute(server, runtime, schemas);
  registerJobRoutes(server, { jobs: runtime.jobs, config });
  const front: FrontDoor = {
    auth,
    admission,
    lagging: () => config.server.max_event_loop_delay_ms > 0 && server.isUnderPressure(),
    // No options: options would make a child store with counters of its own. The global ones give
    // the same key and allow-list (a gRPC call matches no operational route: it is API work).
    rateLimit: config.rate_limit.enabled ? server.createRateLimit() : undefined,
  };
  return { server, state, front };
}

/** Per tenant (per IP when anonymous), in Redis when there is one so replicas share the count. */
async function registerRateLimit(server: FastifyInstance, runtime: Runtime): Promise<void> {
  await server.register(fastifyRateLimit, {
    max: runtime.config.rate_limit.max_per_minute,
    timeWindow: 60_000,
    store: runtime.redis ? fallbackRateLimitStore(runtime.redis, 'pronto:ratelimit:') : undefined,
    keyGenerator: (request) => (request.tenant === 'public' ? request.ip : request.tenant),
    allowList: (request) => isOperationalRoute(request),
    errorResponseBuilder: (_request, context) => rateLimited(context.max, context.ttl),
  });
}

/** The OpenAPI document and its reader at /docs. */
async function registerApiDocs(server: FastifyInstance, config: Config): Promise<void> {
  await server.register(fastifySwagger, openApiOptions(config, VERSION));
  await server.register(async (docs) => {
    // Every route the docs plugin makes is public (readers of the API reference carry no key).
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, ...PUBLIC_ROUTE };
    });
    await docs.register(fastifySwaggerUi, { routePrefix: '/docs' });
  });
}
