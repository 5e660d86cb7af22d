import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { lazyChild } from '../../src/observability/logger.js';

function capture(level: string) {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk).replace(/"time":\d+,/, ''));
      done();
    },
  });
  return { logger: pino({ level, base: { service: 'pronto' } }, sink), lines };
}

test('a lazy request logger writes the lines an eager child would, and makes no child until a line is on', () => {
  const eager = capture('info');
  const lazy = capture('info');
  let made = 0;
  const child = lazy.logger.child;
  // pino's children inherit from their parent: the count takes in every child of a child too.
  lazy.logger.child = function (this: typeof lazy.logger, ...args: Parameters<typeof child>) {
    made++;
    return child.apply(this, args);
  } as typeof child;

  const request = lazyChild(lazy.logger, { reqId: 'r-1' });
  const context = request.child({ request_id: 'r-1', tenant: 'alpha', variant: 'default' });
  context.debug({ stage: 'embed' }, 'below the level');
  request.debug('below the level');
  assert.equal(made, 0, 'nothing made while every line is below the level');
  assert.equal(context.isLevelEnabled('info'), true);
  assert.equal(context.level, 'info');

  const eagerContext = eager.logger.child({ reqId: 'r-1' }).child({ request_id: 'r-1', tenant: 'alpha', variant: 'default' });
  for (const log of [eagerContext, context]) {
    log.warn({ stage: 'retrieve', reason: 'timeout' }, 'stage degraded');
    log.info('request');
  }
  eager.logger.child({ reqId: 'r-1' }).error({ err: 'x' }, 'failed');
  request.error({ err: 'x' }, 'failed');
  assert.equal(lazy.lines.length, 3);
  assert.deepEqual(lazy.lines, eager.lines);
  assert.equal(made, 2, 'the request logger and its child, each made once');
  assert.deepEqual(context.bindings(), { service: 'pronto', reqId: 'r-1', request_id: 'r-1', tenant: 'alpha', variant: 'default' });
});
