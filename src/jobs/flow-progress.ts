import type { FlowStepConfig } from '../config/flows.js';
import type { StepEvent } from '../pipeline/types.js';

/**
 * A flow job's progress from its `step` events: the share of the flow's configured steps done, a
 * per-part step (retrieve, rerank) counting by parts done. Steps are reported in their order, so a
 * cursor into the configured list finds each event's step even when two steps share a name; the
 * answer (`generate`, reported as it starts) leaves its own share for the job's end.
 */
export function flowProgress(configured: FlowStepConfig[]): (event: StepEvent) => number {
  let at = 0;
  let parts = 1;
  let fraction = 0;
  return (event) => {
    const index = configured.findIndex((step, i) => i >= at && step.kind === event.kind && (step.name ?? step.kind) === event.name);
    if (index === -1) return fraction;
    at = index;
    if (event.parts) parts = event.parts.length;
    const done = event.status === 'running' ? 0 : event.part === undefined ? 1 : (event.part + 1) / parts;
    fraction = Math.max(fraction, Math.min(1, (index + done) / configured.length));
    return fraction;
  };
}
