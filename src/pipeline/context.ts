import { randomUUID } from 'node:crypto';
import type { Bindings } from 'pino';
import type { StageName } from '../config/schema.js';
import { DEFAULT_VARIANT } from '../config/variants.js';
import { Deadline } from '../core/deadline.js';
import { ProntoError } from '../core/errors.js';
import { matchesAny } from '../core/patterns.js';
import type { ContextLogger, RequestContext } from './types.js';

export interface ContextOptions {
  logger: { child(bindings: Bindings): ContextLogger };
  tenant: string;
  /** The pipeline variant serving the request; `default` when not given. */
  variant?: string;
  deadlineMs: number;
  requestId?: string;
  /** Aborts the request's work when it aborts (e.g. the client disconnected, the job was cancelled). */
  signal?: AbortSignal;
  /** The request's trace context (see observability/tracing.ts). */
  trace?: RequestContext['trace'];
  stageBudgets?: RequestContext['stageBudgets'];
  namespaces?: RequestContext['namespaces'];
  tokenBudget?: RequestContext['tokenBudget'];
}

/** A fresh request context: its own deadline, empty timings and degradations. */
export function createRequestContext(options: ContextOptions): RequestContext {
  const requestId = options.requestId ?? randomUUID();
  return {
    requestId,
    tenant: options.tenant,
    variant: options.variant ?? DEFAULT_VARIANT,
    deadline: new Deadline(options.deadlineMs, options.signal),
    startedAt: performance.now(),
    timings: {},
    degraded: [],
    transcript: {},
    logger: options.logger.child({ request_id: requestId, tenant: options.tenant, variant: options.variant ?? DEFAULT_VARIANT }),
    trace: options.trace,
    stageBudgets: options.stageBudgets,
    namespaces: options.namespaces,
    tokenBudget: options.tokenBudget,
  };
}

/** A stage's budget for this request: its own when it has them (jobs), else the interactive ones. */
export function stageBudgetMs(ctx: RequestContext, budgets: Record<StageName, number>, stage: StageName): number {
  return ctx.stageBudgets ? (ctx.stageBudgets[stage] ?? Infinity) : budgets[stage];
}

/** The namespace as this request's tenant stores it, once its key is allowed to use it. */
export function namespaceOf(ctx: RequestContext, namespace: string): string {
  checkNamespace(ctx.namespaces, namespace);
  return scopedNamespace(ctx.tenant, namespace);
}

/** `forbidden_namespace` unless the caller's key lists the namespace (undefined: every one). */
export function checkNamespace(allowed: readonly string[] | undefined, namespace: string): void {
  if (allowed && !matchesAny(allowed, namespace)) {
    throw new ProntoError('forbidden_namespace', `The API key may not use namespace "${namespace}"`, { field: 'namespace' });
  }
}

/** The namespace as stored: scoped to the tenant so no tenant can read another's documents. */
export function scopedNamespace(tenant: string, namespace: string): string {
  return `${tenant}/${namespace}`;
}
