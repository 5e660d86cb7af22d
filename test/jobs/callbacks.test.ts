import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isProntoError } from '../../src/core/errors.js';
import { createCallbackSender } from '../../src/jobs/callbacks/sender.js';
import { signCallback, verifyCallback } from '../../src/jobs/callbacks/signature.js';
import { checkCallbackUrl, isPublicAddress } from '../../src/jobs/callbacks/url-guard.js';
import type { JobView } from '../../src/jobs/types.js';
import { startReceiver } from './support/receiver.js';

const VIEW: JobView = { job_id: 'j', kind: 'embed', status: 'succeeded', priority: 5, attempts: 1, created_at: new Date(0).toISOString() };
const CALLBACKS = { secret: 's', attempts: 1, backoff_ms: 0, timeout_ms: 2000 };

describe('callback signatures', () => {
  const body = JSON.stringify(VIEW);
  test('verify accepts the signature and refuses tampering, other secrets and stale timestamps', () => {
    const now = 1_800_000_000;
    const header = signCallback('secret', body, now);
    assert.match(header, /^t=1800000000,v1=[0-9a-f]{64}$/);
    assert.ok(verifyCallback('secret', header, body, { nowS: now + 10 }));
    assert.ok(!verifyCallback('secret', header, `${body} `, { nowS: now }));
    assert.ok(!verifyCallback('other', header, body, { nowS: now }));
    assert.ok(!verifyCallback('secret', header, body, { nowS: now + 301 }));
    assert.ok(!verifyCallback('secret', header.replace(/t=\d+/, `t=${now + 5}`), body, { nowS: now }));
    for (const bad of [undefined, '', 'v1=abc', 't=x,v1=00', `t=${now}`]) assert.ok(!verifyCallback('secret', bad, body, { nowS: now }));
  });
});

describe('callback URL guard (SSRF)', () => {
  test('only public unicast addresses pass', () => {
    for (const address of ['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111']) assert.ok(isPublicAddress(address), address);
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '255.255.255.255',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fc00::1',
      'fd12:3456::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      '64:ff9b::a00:1',
      '2002:7f00:1::',
      'ff02::1',
      'not-an-ip',
    ]) {
      assert.ok(!isPublicAddress(address), address);
    }
  });

  test('submit-time check: scheme, credentials, and the resolved address', async () => {
    assert.equal((await checkCallbackUrl('https://8.8.8.8/hook', false)).href, 'https://8.8.8.8/hook');
    const refuse = (url: string, allowPrivate = false) =>
      assert.rejects(checkCallbackUrl(url, allowPrivate), (err: unknown) => isProntoError(err) && err.field === 'callback_url');
    await refuse('http://localhost:8080/hook'); // resolves to loopback
    await refuse('http://127.1/hook'); // WHATWG URL normalises it to 127.0.0.1
    await refuse('http://0x7f000001/hook');
    await refuse('http://[::ffff:7f00:1]/hook');
    await refuse('file:///etc/passwd', true);
    await refuse('https://user:pw@8.8.8.8/hook');
    await refuse('http://does-not-exist.invalid/hook');
    assert.equal((await checkCallbackUrl('http://localhost:8080/hook', true)).hostname, 'localhost');
  });

  test('delivery re-checks the address it connects to (DNS may have changed since submit)', async () => {
    const receiver = await startReceiver();
    const sender = createCallbackSender({ ...CALLBACKS, allow_private: false });
    try {
      const port = new URL(receiver.url).port;
      for (const url of [`http://localhost:${port}/hook`, `http://127.0.0.1:${port}/hook`]) {
        await assert.rejects(
          sender.send(url, VIEW, { id: 'd', attempt: 1 }),
          (err: unknown) => isProntoError(err) && err.code === 'forbidden',
        );
      }
      assert.equal(receiver.deliveries.length, 0);
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  test('with allow_private the same delivery goes through, signed', async () => {
    const receiver = await startReceiver([500]);
    const sender = createCallbackSender({ ...CALLBACKS, allow_private: true });
    try {
      const url = receiver.url.replace('127.0.0.1', 'localhost');
      await assert.rejects(
        sender.send(url, VIEW, { id: 'd', attempt: 1 }),
        (err: unknown) => isProntoError(err) && err.code === 'upstream_failed',
      );
      await sender.send(url, VIEW, { id: 'd', attempt: 2 });
      assert.equal(receiver.deliveries.length, 2);
      const last = receiver.deliveries[1];
      assert.equal(last.headers['x-pronto-delivery-attempt'], '2');
      assert.equal(last.headers['x-pronto-delivery-id'], 'd', 'a redelivery carries the same id');
      assert.ok(verifyCallback('s', last.headers['x-pronto-signature'] as string, last.body));
    } finally {
      await sender.close();
      await receiver.close();
    }
  });
});
