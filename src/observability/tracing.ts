import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  defaultTextMapGetter,
  isSpanContextValid,
  trace,
  type Context,
  type Link,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { BatchObserver } from '../core/batcher.js';

/**
 * OpenTelemetry tracing: a span per request (continuing the caller's `traceparent`), a child span
 * per pipeline stage, and a span per model batch linked to the requests in it. Spans go to the
 * process's SDK (./otel-sdk.ts, started by `pronto serve` and `pronto worker` from the standard
 * OTEL_* variables); with none started the API is a no-op and costs nothing. Tests hand in an
 * exporter instead and get a provider of their own (never registered globally, so several apps in
 * one process keep their traces apart).
 */
export interface Tracing {
  tracer: Tracer;
  /** Starts the server span for a request, as a child of the incoming `traceparent` if any. */
  startRequest(name: string, headers: Record<string, unknown>, attributes: Record<string, string>): { span: Span; context: Context };
  shutdown(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();

export function createTracing(exporter?: SpanExporter): Tracing {
  const provider = exporter ? new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }) : undefined;
  const tracer = (provider ?? trace.getTracerProvider()).getTracer('pronto');
  return {
    tracer,
    startRequest(name, headers, attributes) {
      const parent = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
      // No SDK and no caller's trace: the span is the no-op one, and a context holding it would tell
      // the stages nothing the root context does not. Not made per request (two Maps and a context).
      if (parent === ROOT_CONTEXT && !isSpanContextValid(span.spanContext())) return { span, context: ROOT_CONTEXT };
      return { span, context: trace.setSpan(parent, span) };
    },
    shutdown: async () => provider?.shutdown(),
  };
}

/** The trace id of a request's context, when it is sampled (for logs and the `done` event). */
export function traceIdOf(context: Context | undefined): string | undefined {
  const span = context ? trace.getSpanContext(context) : undefined;
  return span && span.traceFlags & 1 ? span.traceId : undefined;
}

/** Ends a span with an error status when `outcome` is not ok. */
export function endSpan(span: Span, outcome: string, attributes: Record<string, string | number> = {}): void {
  span.setAttributes({ 'pronto.outcome': outcome, ...attributes });
  if (outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
  span.end();
}

/**
 * A span per model batch with a link to each request whose items are in it, and the batch size,
 * flush reason and queue waits as attributes. Its parent is the first sampled request in it, so a
 * parent-based sampler keeps the batches of the requests it keeps.
 */
export function batchSpans(tracer: Tracer, model: string): BatchObserver {
  const open = new WeakMap<object, Span>();
  return {
    batchStarted({ batch, size, reason, waitsMs, tags }) {
      const links: Link[] = [];
      let parent: Context = ROOT_CONTEXT;
      for (const tag of new Set(tags)) {
        const context = tag ? trace.getSpanContext(tag as Context) : undefined;
        if (!context) continue;
        links.push({ context });
        if (parent === ROOT_CONTEXT && context.traceFlags & 1) parent = tag as Context;
      }
      const span = tracer.startSpan(
        `batch ${model}`,
        {
          kind: SpanKind.INTERNAL,
          links,
          attributes: {
            'pronto.model': model,
            'pronto.batch.size': size,
            'pronto.batch.flush_reason': reason,
            'pronto.batch.queue_wait_ms.max': Math.max(...waitsMs),
            'pronto.batch.requests': links.length,
          },
        },
        parent,
      );
      open.set(batch, span);
    },
    batchFinished({ batch, error }) {
      const span = open.get(batch);
      if (!span) return;
      open.delete(batch);
      endSpan(span, error === undefined ? 'ok' : 'error');
    },
  };
}
