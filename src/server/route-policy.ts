import type { FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * An operational route (probes, metrics, docs, dashboard): open without a key, never shed by
     * admission or the rate limit, no pipeline context. Every other route is API work.
     */
    public?: boolean;
  }
}

/** Route config of an operational route. */
export const PUBLIC_ROUTE = { public: true } as const;

/**
 * Whether the request matched a route marked public. Decided from the route the router matched,
 * never from the raw URL (`/%761/jobs` and `/v1/jobs` are one route): deny by default, so a route
 * that is not marked public, and a URL that matches no route, are API work and need a key.
 */
export function isPublicRoute(request: FastifyRequest): boolean {
  return request.routeOptions.config?.public === true;
}
