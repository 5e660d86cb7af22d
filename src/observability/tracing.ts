import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { ObservabilityConfig } from '../config/schema.js';

/**
 * OpenTelemetry tracing: a span per request (continuing the caller's `traceparent`) and a child
 * span per pipeline stage. The provider belongs to the app (never registered globally), so
 * several apps in one process keep their traces apart. Without an OTLP endpoint or a test
 * exporter the tracer is a no-op and costs nothing.
 */
export interface Tracing {
  tracer: Tracer;
  /** Starts the server span for a request, as a child of the incoming `traceparent` if any. */
  startRequest(name: string, headers: Record<string, unknown>, attributes: Record<string, string>): { span: Span; context: Context };
  shutdown(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();

export function createTracing(config: ObservabilityConfig, exporter?: SpanExporter): Tracing {
  const endpoint = config.otlp_endpoint;
  const provider =
    exporter || endpoint
      ? new NodeTracerProvider({
          resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.service_name }),
          spanProcessors: [
            exporter
              ? new SimpleSpanProcessor(exporter)
              : new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint!.replace(/\/$/, '')}/v1/traces` })),
          ],
        })
      : undefined;
  const tracer = provider ? provider.getTracer('pronto') : trace.getTracerProvider().getTracer('pronto');
  return {
    tracer,
    startRequest(name, headers, attributes) {
      const parent = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
      return { span, context: trace.setSpan(parent, span) };
    },
    shutdown: async () => provider?.shutdown(),
  };
}

/** Ends a span with an error status when `outcome` is not ok. */
export function endSpan(span: Span, outcome: string, attributes: Record<string, string | number> = {}): void {
  span.setAttributes({ 'pronto.outcome': outcome, ...attributes });
  if (outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
  span.end();
}
