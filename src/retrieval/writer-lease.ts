import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { sleep } from '../core/deadline.js';
import { ProntoError } from '../core/errors.js';

/** Runs a store commit while this process is the index's only writer. */
export interface WriteLease {
  hold<T>(work: () => Promise<T>): Promise<T>;
}

export interface RedisWriteLeaseOptions {
  /** The deployment's key prefix (`jobs.prefix`). */
  prefix: string;
  /** The lease lapses this long after its holder last renewed it (every third of it), should the holder die. */
  ttlMs: number;
  /** A writer waits this long for the lease before its write is refused (503, retryable). */
  waitMs: number;
  logger: Logger;
}

/** Deletes the lease only if it still holds this writer's token (it may have lapsed and moved on). */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
/** Extends the lease only if it still holds this writer's token. */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * One writer at a time across every process sharing the index, for stores whose commits do not
 * exclude a concurrent writer themselves (docs/OPERATIONS.md: plain `s3://`). The lease is
 * `SET <prefix>:pronto:index-lease <token> NX PX ttl`; its token comes from INCR on
 * `<prefix>:pronto:index-fence`, so every holder has a larger one than all before it (a fencing
 * token), renewed every third of `ttlMs` while the commit runs. LanceDB cannot check a token at
 * commit, so what the token buys is detection: a holder that finds at release that its lease lapsed
 * (paused past `ttlMs` without a renewal, or cut off from Redis) logs an error naming both tokens.
 * No lease, no write: while Redis is down, writes are refused with 503.
 */
export class RedisWriteLease implements WriteLease {
  private readonly leaseKey: string;
  private readonly fenceKey: string;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisWriteLeaseOptions,
  ) {
    this.leaseKey = `${options.prefix}:pronto:index-lease`;
    this.fenceKey = `${options.prefix}:pronto:index-fence`;
  }

  async hold<T>(work: () => Promise<T>): Promise<T> {
    const token = await this.acquire();
    // Renewed while the work runs: an ANN index build holds it for minutes, a crash frees it in ttlMs.
    const renewal = setInterval(() => {
      this.redis.eval(RENEW, 1, this.leaseKey, token, this.options.ttlMs).catch(() => undefined);
    }, this.options.ttlMs / 3);
    try {
      return await work();
    } finally {
      clearInterval(renewal);
      const released = await this.redis.eval(RELEASE, 1, this.leaseKey, token).catch(() => 0);
      if (released !== 1) {
        const holder = await this.redis.get(this.leaseKey).catch(() => null);
        this.options.logger.error({ token, holder }, 'the index write lease lapsed during a write: another writer may have committed at the same time');
      }
    }
  }

  private async acquire(): Promise<string> {
    const until = performance.now() + this.options.waitMs;
    try {
      const token = String(await this.redis.incr(this.fenceKey));
      for (let pause = 10; ; pause = Math.min(pause * 2, 200)) {
        if ((await this.redis.set(this.leaseKey, token, 'PX', this.options.ttlMs, 'NX')) === 'OK') return token;
        if (performance.now() + pause > until) break;
        await sleep(pause);
      }
    } catch (err) {
      throw new ProntoError('store_unavailable', `the index write lease cannot be taken: Redis is unavailable (${(err as Error).message})`);
    }
    throw new ProntoError('overloaded', `another process held the index write lease for ${this.options.waitMs} ms; retry later`);
  }
}
