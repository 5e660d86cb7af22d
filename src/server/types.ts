import type { RequestContext } from '../pipeline/types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's tenant (from its API key; `public` when auth is off). */
    tenant: string;
    /** The pipeline context of a /v1 request: deadline, timings, degradations. */
    ctx?: RequestContext;
  }
}

export {};
