import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../observability/metrics.js';
import { routeOf } from '../route-policy.js';
import { splitVariantOf } from './request-context.js';

/** Request count and duration by route template (not raw URL: ids would explode the label set) and variant. */
export function registerHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    const labels = {
      method: request.method,
      route: routeOf(request).url ?? 'unmatched',
      status: String(reply.statusCode),
      // Only on the routes variants split: a variant's latency is that of its queries alone.
      ...variantLabel(splitVariantOf(request)),
    };
    metrics.requests.inc(labels);
    metrics.requestDuration.observe(labels, reply.elapsedTime / 1000);
    done();
  });
}

function variantLabel(variant: string | undefined): { variant?: string } {
  return variant === undefined ? {} : { variant };
}
