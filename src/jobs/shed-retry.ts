import { sleep } from '../core/deadline.js';
import { isProntoError } from '../core/errors.js';
import type { RequestContext } from '../pipeline/types.js';

/**
 * What the model runtime answers when it sheds work (its queue timed out or is full). An
 * interactive request fails fast on it; a job has its whole deadline and waits its turn instead.
 */
const SHED_CODES: ReadonlySet<string> = new Set(['overloaded', 'queue_full']);
const SHED_BACKOFF_MS = 200;
const LONGEST_WAIT_MS = 5000;

/** Runs `work` until it is not shed, waiting longer each time; the job's deadline ends the loop. */
export async function untilNotShed<T>(ctx: RequestContext, work: () => Promise<T>): Promise<T> {
  for (let retry = 1; ; retry++) {
    try {
      return await work();
    } catch (err) {
      if (!isProntoError(err) || !SHED_CODES.has(err.code)) throw err;
      ctx.logger.info({ code: err.code, retry }, 'job work shed by the model runtime: waiting to retry');
      await sleep(Math.min(LONGEST_WAIT_MS, SHED_BACKOFF_MS * 2 ** (retry - 1)), ctx.deadline.signal);
    }
  }
}
