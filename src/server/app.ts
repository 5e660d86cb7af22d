import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { lazyChild } from '../observability/logger.js';
import type { Runtime } from '../runtime.js';
import { createAdmission, type Admission, type AdmissionState } from './front/admission.js';
import { createAuthenticator, type Authenticator } from './front/auth.js';
import { createKeyLimiters, type KeyLimiters } from './front/key-limits.js';
import { rateLimitHeaders, rateLimited, requestPolicy } from './front/rate-limit.js';
import { AJV_OPTIONS } from './front/validation.js';
import { registerAdmission } from './plugins/admission.js';
import { registerAuth } from './plugins/auth.js';
import { MAX_PARAM_LENGTH, clientError, frameworkError, registerErrorHandler } from './plugins/errors.js';
import { registerHttpMetrics } from './plugins/http-metrics.js';
import { registerJsonBodyParser } from './plugins/json-body.js';
import { registerKeyShaping } from './plugins/key-shaping.js';
import { fallbackRateLimitStore } from './plugins/rate-limit-store.js';
import { registerRequestContext, type VariantSeat } from './plugins/request-context.js';
import { registerRequestId, requestIdGenerator } from './plugins/request-id.js';
import { registerUnreadBodyDrain } from './plugins/unread-body.js';
import { registerRequestObserver } from './plugins/request-observer.js';
import { registerStreamLimit } from './plugins/stream-limit.js';
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
import { PUBLIC_ROUTE, isOperationalRoute, registerMatchedRoute } from './route-policy.js';
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
  /** The HTTP request limit's own check, on the same store (so one budget spans both transports). */
  rateLimit: RateLimitCheck;
  /** Per-key stream slots and token budgets. */
  limits: KeyLimiters;
}

export type RateLimitCheck = ReturnType<FastifyInstance['createRateLimit']>;

/** Builds the HTTP app over a runtime. Many apps can live in one process (tests do this). */
export async function buildApp(runtime: Runtime): Promise<App> {
  const { config } = runtime;
  const server = Fastify({
    loggerInstance: runtime.logger as FastifyBaseLogger,
    genReqId: requestIdGenerator(runtime.redactor),
    // Fastify's own request lines log the raw URL (ids, namespaces: PII); ./plugins/request-observer.ts
    // logs each request once, by its route template, when the response is done.
    logController: new LogController({ disableRequestLogging: true }),
    // Each request's logger (its id bound) is made on its first line: most requests write none.
    childLoggerFactory: (logger, bindings, options) =>
      Object.keys(options).length > 0 ? logger.child(bindings, options) : lazyChild(logger as Logger, bindings),
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
  registerMatchedRoute(server);
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
  const rateLimit = await registerRateLimit(server, runtime);
  const limits = createKeyLimiters({
    redis: runtime.redis,
    prefix: `${config.jobs.prefix}:keys:`,
    leaseMs: 2 * Math.max(config.deadline.max_ms, config.deadline.ingest_ms),
    redisTimeoutMs: config.rate_limit.redis_timeout_ms,
  });
  // x-pronto-variant is honoured for keys with allow_variant_override (and for everyone while no keys are configured).
  const variants: VariantSeat = { router: runtime.variants, mayForce: (request) => request.apiKey.allow_variant_override };
  // Before the request context opens: a request over its key's caps is refused untraced, as a bad body is.
  registerKeyShaping(server);
  registerRequestContext(server, config, runtime.tracing, variants, limits);
  registerStreamLimit(server, limits);
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
    rateLimit,
    limits,
  };
  return { server, state, front };
}

/**
 * The request limit of each caller (front/rate-limit.ts requestPolicy: the key's own, else the
 * global per tenant or address), counted by @fastify/rate-limit in Redis when there is one so
 * replicas share the count. Registered always (a reload may give a key a limit) and checked by this
 * app's own hook, which sends the IETF RateLimit headers the plugin does not know.
 */
async function registerRateLimit(server: FastifyInstance, runtime: Runtime): Promise<RateLimitCheck> {
  const { rate_limit } = runtime.config;
  const policyOf = (request: FastifyRequest) => requestPolicy(request.apiKey, request.ip, rate_limit);
  const exempt = (request: FastifyRequest) => isOperationalRoute(request) || policyOf(request) === undefined;
  await server.register(fastifyRateLimit, {
    global: false,
    store: runtime.redis ? fallbackRateLimitStore(runtime.redis, `${runtime.config.jobs.prefix}:ratelimit:`, rate_limit.redis_timeout_ms) : undefined,
    keyGenerator: (request) => policyOf(request)?.counter ?? '',
    max: (request) => policyOf(request)?.max ?? 1,
    timeWindow: (request) => policyOf(request)?.windowMs ?? 1000,
    allowList: exempt,
  });
  // No options: options would make a child store with counters of its own. The global ones give
  // the same key and allow-list (a gRPC call matches no operational route: it is API work).
  const check = server.createRateLimit();
  server.addHook('onRequest', (request, reply, done) => {
    // What the allow-list lets through is not counted: it goes on without the plugin's check and
    // its promise (with no limit configured, that is every request).
    if (exempt(request)) return done();
    check(request).then((counted) => {
      if (counted.isAllowed) return done();
      const policy = policyOf(request)!;
      reply.headers(rateLimitHeaders(policy, counted));
      done(counted.isExceeded ? rateLimited(policy, counted.ttl) : undefined);
    }, done);
  });
  return check;
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
