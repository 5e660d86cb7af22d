import { DelayedError, UnrecoverableError, type Processor } from 'bullmq';
import type { Redis } from 'ioredis';
import { isProntoError } from '../../core/errors.js';
import { deliveryId, type CallbackSender } from '../callbacks/sender.js';
import type { CallbackData, RedisJobStore } from './store.js';

/** How long a callback delivery waits for its job's outcome to be committed before looking again. */
const CALLBACK_RECHECK_MS = 250;

/**
 * One callback delivery, on BullMQ (so deliveries survive restarts and retry with backoff): at
 * most once per outcome and attempt. A delivery recorded as done is never sent again (a rerun
 * after its worker died between sending and completing finds the record), and every send, a
 * rerun's included, carries the same id and the next attempt number.
 */
export function createCallbackProcessor(store: RedisJobStore, commands: Redis, sender: CallbackSender): Processor<CallbackData> {
  return async (delivery, token) => {
    const found = await store.loadView(delivery.data.jobId);
    if (!found) return 'job expired';
    if (!found.committed) {
      // Queued by the worker just before it commits the outcome: look again shortly.
      await delivery.moveToDelayed(Date.now() + CALLBACK_RECHECK_MS, token);
      throw new DelayedError();
    }
    const id = deliveryId(found.view);
    if (await commands.exists(store.keys.delivered(id))) return 'delivered before';
    const attempt = await commands.incr(store.keys.deliveryAttempt(id));
    await commands.pexpire(store.keys.deliveryAttempt(id), store.ttlMs);
    try {
      await sender.send(delivery.data.url, found.view, { id, attempt });
    } catch (err) {
      if (isProntoError(err) && err.code === 'forbidden') throw new UnrecoverableError(err.message);
      throw err;
    }
    await commands.set(store.keys.delivered(id), String(attempt), 'PX', store.ttlMs);
    return 'delivered';
  };
}
