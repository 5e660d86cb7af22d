import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import type { JobsConfig } from '../../config/jobs.js';
import { ProntoError } from '../../core/errors.js';
import type { JobView } from '../types.js';
import { SIGNATURE_HEADER, signCallback } from './signature.js';
import { BLOCKED_ADDRESS, guardedLookup, isPublicAddress } from './url-guard.js';

/**
 * One callback: its id names the job's outcome (the same on every redelivery, so a receiver can
 * drop repeats); the attempt counts every delivery try of it, a rerun after a crash included.
 */
export interface Delivery {
  id: string;
  attempt: number;
}

/** The delivery id of a finished job's callback: one per job and outcome. */
export function deliveryId(view: JobView): string {
  return `${view.job_id}.${view.status}`;
}

export interface CallbackSender {
  /**
   * POSTs the finished job to `url`, signed. Throws a retryable `upstream_failed` on a network
   * error or non-2xx answer, and a non-retryable `forbidden` when the URL now points at a
   * non-public address (DNS changed since submit).
   */
  send(url: string, view: JobView, delivery: Delivery): Promise<void>;
  close(): Promise<void>;
}

export function createCallbackSender(config: Pick<JobsConfig['callbacks'], 'secret' | 'timeout_ms' | 'allow_private'>): CallbackSender {
  // One agent whose connections only ever go to addresses the guard accepted.
  const agent = new Agent({ connect: { lookup: guardedLookup(config.allow_private) } });
  return {
    async send(url, view, delivery) {
      const target = new URL(url);
      const literal = target.hostname.replace(/^\[|\]$/g, '');
      // IP literals skip `lookup`, so check them here.
      if (!config.allow_private && isIP(literal) && !isPublicAddress(literal)) {
        throw new ProntoError('forbidden', `callback address ${literal} is not public`);
      }
      const body = JSON.stringify(view);
      const timestamp = Math.floor(Date.now() / 1000);
      let status: number;
      try {
        const response = await request(target, {
          method: 'POST',
          dispatcher: agent,
          body,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'pronto-callbacks',
            'x-pronto-job-id': view.job_id,
            'x-pronto-delivery-id': delivery.id,
            'x-pronto-delivery-attempt': String(delivery.attempt),
            [SIGNATURE_HEADER]: signCallback(config.secret, body, timestamp),
          },
          signal: AbortSignal.timeout(config.timeout_ms),
        });
        status = response.statusCode;
        await response.body.dump();
      } catch (err) {
        if (isBlocked(err)) {
          throw new ProntoError('forbidden', `callback host ${target.hostname} has no public address`, { cause: err });
        }
        throw new ProntoError('upstream_failed', `callback to ${target.host} failed: ${(err as Error).message}`, { cause: err });
      }
      if (status < 200 || status >= 300) {
        throw new ProntoError('upstream_failed', `callback to ${target.host} answered ${status}`);
      }
    },
    close: () => agent.close(),
  };
}

/** undici wraps connector errors; the guard's code may sit on the error or its cause. */
function isBlocked(err: unknown): boolean {
  for (let e = err as (Error & { code?: string }) | undefined; e; e = e.cause as typeof e) {
    if (e.code === BLOCKED_ADDRESS) return true;
  }
  return false;
}
