import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** What `routeOf` read of the matched route, kept for the request's other hooks. */
    matchedRoute?: MatchedRoute;
  }
  interface FastifyContextConfig {
    /**
     * An operational route (probes, metrics, docs, the dashboard and its statistics): never shed by
     * admission or the rate limit, no pipeline context, not remembered for feedback. Every other
     * route is API work.
     */
    operational?: boolean;
    /** Open without a key: an operational route whose callers carry none (probes, scrapers, docs readers, the dashboard page). */
    public?: boolean;
    /** Shows every tenant's data: with keys, only an operator's key may read it. */
    operator?: boolean;
  }
}

/** Route config of an operational route that is open without a key. */
export const PUBLIC_ROUTE = { operational: true, public: true } as const;

/**
 * Route config of an operational route that needs a key when auth is on (the dashboard's
 * statistics: they show every tenant's traffic).
 */
export const KEYED_OPERATIONAL_ROUTE = { operational: true } as const;

/** Route config of an operational route that shows every tenant's data (the dashboard's aggregates). */
export const OPERATOR_ROUTE = { operational: true, operator: true } as const;

/**
 * Whether the request matched a route marked public. Decided from the route the router matched,
 * never from the raw URL (`/%761/jobs` and `/v1/jobs` are one route): deny by default, so a route
 * that is not marked public, and a URL that matches no route, need a key.
 */
export function isPublicRoute(request: FastifyRequest): boolean {
  return routeOf(request).config?.public === true;
}

/** Whether the request matched an operational route (public or keyed); a URL that matches no route is API work. */
export function isOperationalRoute(request: FastifyRequest): boolean {
  return routeOf(request).config?.operational === true;
}

/** The route the router matched: its template (undefined when none matched) and its config. */
export interface MatchedRoute {
  url: string | undefined;
  config: FastifyRequest['routeOptions']['config'] | undefined;
}

/**
 * The matched route, read once per request: Fastify's `routeOptions` getter builds a new object of
 * fourteen fields at every read, and a request's hooks ask a dozen times (over 1 KB of garbage per
 * request, on the results-cache hit path too).
 */
export function routeOf(request: Pick<FastifyRequest, 'routeOptions' | 'matchedRoute'>): MatchedRoute {
  if (request.matchedRoute) return request.matchedRoute;
  const { url, config } = request.routeOptions;
  return (request.matchedRoute = { url, config });
}

/** Gives requests the slot `routeOf` keeps its answer in (declared, so every request has one shape). */
export function registerMatchedRoute(app: FastifyInstance): void {
  app.decorateRequest('matchedRoute', undefined);
}
