import { ProntoError } from '../../../src/core/errors.js';
import { raceAbort } from '../../../src/core/deadline.js';
import type { JobHandler, JobHandlers } from '../../../src/jobs/types.js';

/**
 * Scriptable handlers for the queue contract: the input says what to do, so one handler set
 * serves every test. `behave` (or, through the routes, which refuse unknown fields, the id of the
 * first document of an ingest job):
 * - `echo` (default): returns `{ echo: input }`
 * - `fail:<n>:<code>`: throws ProntoError(code) on the first n attempts, then echoes
 * - `gate:<name>`: waits until `open(name)` (or the job's signal aborts), then echoes
 * - `steps:<name>`: reports a flow step (its parts hold an email) with progress 0.25, then as `gate`
 * - `ignore-abort`: waits 10 s whatever the signal says (the queue must still time it out)
 */
export interface ScriptedHandlers {
  handlers: JobHandlers;
  /** Job ids in the order their attempts started. */
  starts: string[];
  /** Attempts per job id. */
  attempts: Map<string, number>;
  /** Jobs whose signal aborted, with the reason code. */
  aborted: Map<string, string>;
  open(gate: string): void;
}

export function scriptedHandlers(): ScriptedHandlers {
  const starts: string[] = [];
  const attempts = new Map<string, number>();
  const aborted = new Map<string, string>();
  const gates = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  const gate = (name: string) => {
    let entry = gates.get(name);
    if (!entry) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      entry = { promise, resolve };
      gates.set(name, entry);
    }
    return entry;
  };

  const handler: JobHandler = async (input, ctx, run) => {
    const { behave: given, documents } = input as { behave?: string; documents?: Array<{ id: string }> };
    const behave = given ?? documents?.[0]?.id ?? 'echo';
    const attempt = (attempts.get(run.jobId) ?? 0) + 1;
    attempts.set(run.jobId, attempt);
    starts.push(run.jobId);
    const signal = ctx.deadline.signal;
    signal.addEventListener('abort', () => aborted.set(run.jobId, (signal.reason as { code?: string })?.code ?? 'unknown'), { once: true });
    const [verb, arg, code] = behave.split(':');
    if (verb === 'fail' && attempt <= Number(arg)) throw new ProntoError(code as 'upstream_failed', `scripted failure ${attempt}`);
    if (verb === 'steps') run.reportProgress(0.25, [{ name: 'rewrite', kind: 'rewrite', status: 'ok', ms: 1, start_ms: 0, parts: ['mail jane@example.com', 'and then?'] }]);
    if (verb === 'gate') run.reportProgress(0.5);
    if (verb === 'gate' || verb === 'steps') await raceAbort(gate(arg).promise, signal);
    if (verb === 'ignore-abort') await new Promise((r) => setTimeout(r, 10_000).unref());
    return { echo: input, attempt };
  };

  return {
    handlers: { infer: handler, chat: handler, embed: handler, ingest: handler, flow: handler },
    starts,
    attempts,
    aborted,
    open: (name) => gate(name).resolve(),
  };
}
