import type { ApiKeyRecord } from '../config/auth.js';
import type { RequestContext } from '../pipeline/types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's tenant (from its API key; `public` when auth is off). */
    tenant: string;
    /** The caller's key record (OPEN_KEY when auth is off): its tenant, permissions and limits. */
    apiKey: ApiKeyRecord;
    /** The pipeline context of a /v1 request: deadline, timings, degradations. */
    ctx?: RequestContext;
  }
}

export {};
