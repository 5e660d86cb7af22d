import { DelayedError, UnrecoverableError, type Processor } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { raceAbort, sleep } from '../../core/deadline.js';
import { isProntoError, ProntoError } from '../../core/errors.js';
import { deliveryId, type CallbackSender } from '../callbacks/sender.js';
import type { CallbackData, RedisJobStore } from './store.js';

/** How long a callback delivery waits for its job's outcome to be committed before looking again. */
const CALLBACK_RECHECK_MS = 250;
/** How often a rerun looks whether the send another worker started was recorded. */
const PENDING_POLL_MS = 100;
/** The record's retries across a Redis blip: the first pause, doubling up to the longest. */
const RECORD_FIRST_PAUSE_MS = 50;
const RECORD_LONGEST_PAUSE_MS = 1000;
/**
 * The longest one try waits: a command written as the connection broke waits for the reconnect
 * inside ioredis; the next try goes out on a fresh one (a late SET of the same record is harmless).
 */
const RECORD_TRY_MS = 1000;

/** Clears a send's pending marker only if it is still that send's (a later attempt may have set its own). */
const CLEAR_PENDING = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface CallbackConnections {
  /** Waits out a Redis outage (its commands queue until the connection is back). */
  commands: Redis;
  /** Fails fast while Redis is unreachable: the record's retries are this module's, bounded. */
  record: Redis;
}

/**
 * One callback delivery, on BullMQ (so deliveries survive restarts and retry with backoff): at
 * most once per outcome and attempt. A delivery recorded as done is never sent again, and every
 * send, a rerun's included, carries the same id and the next attempt number.
 *
 * The window between the receiver's 2xx and the record is what could repeat a callback, and it is
 * kept small on both sides. Before sending, the delivery sets a pending marker that lives as long
 * as the send may take plus the record's retries (`timeout_ms + record_retry_ms`), in Redis, so it
 * outlasts a BullMQ lock lost to a Redis restart. After the 2xx the record is retried with backoff
 * across a Redis blip until that same bound. A rerun (the stalled check gave the delivery to
 * another worker) that finds the marker waits for the record instead of sending again; only a
 * send whose worker died, or whose record could not reach Redis within the bound, is repeated.
 */
export function createCallbackProcessor(
  store: RedisJobStore,
  connections: CallbackConnections,
  sender: CallbackSender,
  logger: Logger,
): Processor<CallbackData> {
  const { commands } = connections;
  const { timeout_ms, record_retry_ms } = store.config.callbacks;
  const sendWindowMs = timeout_ms + record_retry_ms;
  return async (delivery, token) => {
    const found = await store.loadView(delivery.data.jobId);
    if (!found) return 'job expired';
    if (!found.committed) {
      // Queued by the worker just before it commits the outcome: look again shortly.
      await delivery.moveToDelayed(Date.now() + CALLBACK_RECHECK_MS, token);
      throw new DelayedError();
    }
    const id = deliveryId(found.view);
    const keys = { delivered: store.keys.delivered(id), pending: store.keys.deliveryPending(id) };
    if (await deliveredBefore(commands, keys)) return 'delivered before';
    const attempt = String(await commands.incr(store.keys.deliveryAttempt(id)));
    await commands.pexpire(store.keys.deliveryAttempt(id), store.ttlMs);
    // Measured here, before the marker is set, so this worker gives up on the record before the
    // marker (timed from a moment later, on Redis) lets a rerun send again.
    const recordBy = performance.now() + sendWindowMs;
    await commands.set(keys.pending, attempt, 'PX', sendWindowMs);
    try {
      await sender.send(delivery.data.url, found.view, { id, attempt: Number(attempt) });
    } catch (err) {
      // Not delivered: the retry BullMQ schedules sends again at once, with no marker to wait out.
      await commands.eval(CLEAR_PENDING, 1, keys.pending, attempt);
      if (isProntoError(err) && err.code === 'forbidden') throw new UnrecoverableError(err.message);
      throw err;
    }
    await recordDelivered(connections.record, keys.delivered, attempt, { ttlMs: store.ttlMs, recordBy, logger, id });
    return 'delivered';
  };
}

/**
 * Whether the outcome's callback needs no send from here: recorded as delivered, or being sent by
 * another worker whose record (or the end of its pending marker) this waits for.
 */
async function deliveredBefore(commands: Redis, keys: { delivered: string; pending: string }): Promise<boolean> {
  for (;;) {
    const [delivered, pending] = await commands.mget(keys.delivered, keys.pending);
    if (delivered !== null) return true;
    if (pending === null) return false;
    await sleep(PENDING_POLL_MS);
  }
}

/**
 * Records the delivery, retrying with backoff while Redis cannot be reached, until `recordBy`.
 * Past it the attempt fails (`store_unavailable`): the pending marker has run out, so a rerun may
 * already be sending, and BullMQ retries this delivery as the next attempt.
 */
async function recordDelivered(
  redis: Redis,
  key: string,
  attempt: string,
  options: { ttlMs: number; recordBy: number; logger: Logger; id: string },
): Promise<void> {
  for (let tries = 1, pause = RECORD_FIRST_PAUSE_MS; ; tries++, pause = Math.min(pause * 2, RECORD_LONGEST_PAUSE_MS)) {
    const left = options.recordBy - performance.now();
    try {
      await raceAbort(redis.set(key, attempt, 'PX', options.ttlMs), AbortSignal.timeout(Math.max(1, Math.min(left, RECORD_TRY_MS))));
      if (tries > 1) options.logger.info({ delivery_id: options.id, tries }, 'recorded a callback delivery after Redis came back');
      return;
    } catch (err) {
      if (options.recordBy - performance.now() <= pause) {
        throw new ProntoError('store_unavailable', `Delivered callback ${options.id} could not be recorded in Redis (${tries} tries)`, {
          cause: err,
        });
      }
      await sleep(pause);
    }
  }
}
