import type { BatchObserver } from '../core/batcher.js';
import type { Metrics } from '../observability/metrics.js';

/** Reports one model's batcher events into the metrics catalogue (children cached per model). */
export function batchMetrics(metrics: Metrics, model: string): BatchObserver {
  const labels = { model };
  const batchSize = metrics.batchSize.labels(labels);
  const batchWait = metrics.batchWait.labels(labels);
  const inference = metrics.inferenceDuration.labels(labels);
  const depth = metrics.modelQueueDepth.labels(labels);
  return {
    batchStarted({ size, reason, waitsMs }) {
      batchSize.observe(size);
      metrics.batchFlushes.inc({ model, reason });
      for (const wait of waitsMs) batchWait.observe(wait / 1000);
    },
    batchFinished({ durationMs, error }) {
      inference.observe(durationMs / 1000);
      metrics.modelCalls.inc({ model, outcome: error === undefined ? 'ok' : 'error' });
    },
    dropped(reason, count) {
      metrics.modelDropped.inc({ model, reason }, count);
    },
    queueChanged(delta) {
      if (delta >= 0) depth.inc(delta);
      else depth.dec(-delta);
    },
  };
}
