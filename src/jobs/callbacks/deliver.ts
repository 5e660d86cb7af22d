import type { Logger } from 'pino';
import { sleep } from '../../core/deadline.js';
import { isRetryable } from '../../core/errors.js';
import type { JobsConfig } from '../../config/jobs.js';
import { retryDelayMs } from '../run.js';
import type { JobView } from '../types.js';
import { deliveryId, type CallbackSender } from './sender.js';

/**
 * Delivers one callback with retries and exponential backoff, in process (the in-process queue;
 * the Redis queue makes each delivery a BullMQ job instead, so it survives restarts).
 */
export async function deliverWithRetries(
  sender: CallbackSender,
  url: string,
  view: JobView,
  config: JobsConfig['callbacks'],
  options: { logger: Logger; signal: AbortSignal },
): Promise<boolean> {
  for (let attempt = 1; attempt <= config.attempts; attempt++) {
    try {
      await sender.send(url, view, { id: deliveryId(view), attempt });
      return true;
    } catch (err) {
      options.logger.warn({ job_id: view.job_id, attempt, err: (err as Error).message }, 'callback delivery failed');
      if (!isRetryable(err) || attempt === config.attempts) return false;
      try {
        await sleep(retryDelayMs(config.backoff_ms, attempt), options.signal);
      } catch {
        return false;
      }
    }
  }
  return false;
}
