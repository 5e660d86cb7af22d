import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { ObservabilityConfig } from '../config/schema.js';

/**
 * Starts the OpenTelemetry SDK for a pronto process the standard way, so the usual variables work:
 * OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (resource), OTEL_TRACES_SAMPLER(_ARG) (sampling),
 * OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_TRACES_EXPORTER (where
 * spans go) and OTEL_BSP_* (batching). Only traces: metrics are Prometheus' and logs pino's.
 * Without an endpoint or exporter configured nothing starts (no spans sent to a guessed address).
 * Returns the shutdown that flushes what is buffered.
 */
export function startOtelSdk(config: ObservabilityConfig, env: NodeJS.ProcessEnv = process.env): () => Promise<void> {
  const endpoint = config.otlp_endpoint;
  if (!endpoint && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT && !env.OTEL_TRACES_EXPORTER) return async () => undefined;
  env.OTEL_SERVICE_NAME ??= config.service_name;
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  const sdk = new NodeSDK({
    // An endpoint from the config file is the OTLP base URL, as OTEL_EXPORTER_OTLP_ENDPOINT is.
    traceExporter:
      endpoint && !env.OTEL_TRACES_EXPORTER && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
        ? new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` })
        : undefined,
    instrumentations: [],
  });
  sdk.start();
  return () => sdk.shutdown();
}
