import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import { checkExposure, isLoopbackHost } from '../../src/server/exposure.js';
import { startServer } from '../../src/server/serve.js';

const config = (host: string, auth: Record<string, unknown> = {}) => loadConfig({ env: {}, overrides: { server: { host, port: 0 }, auth } });

test('loopback addresses are told apart from reachable ones', () => {
  for (const host of ['127.0.0.1', '127.8.9.1', '::1', 'localhost']) assert.equal(isLoopbackHost(host), true, host);
  for (const host of ['0.0.0.0', '::', '10.1.2.3', '203.0.113.7', 'example.org']) assert.equal(isLoopbackHost(host), false, host);
});

test('the default binds loopback', () => assert.equal(loadConfig({ env: {} }).server.host, '127.0.0.1'));

test('no keys on a reachable address is refused at start, naming the key that allows it', async () => {
  assert.throws(() => checkExposure(config('0.0.0.0')), (err: ConfigError) => err.key === 'auth.allow_anonymous');
  // Refused before anything listens or loads.
  await assert.rejects(startServer(config('0.0.0.0')), /auth\.allow_anonymous/);
});

test('keys, loopback, or an explicit allow_anonymous start; only the last is open to the network', () => {
  assert.deepEqual(checkExposure(config('0.0.0.0', { api_keys: [{ key: 'exposure-key-0', tenant: 't' }] })), { openToNetwork: false });
  assert.deepEqual(checkExposure(config('127.0.0.1')), { openToNetwork: false });
  assert.deepEqual(checkExposure(config('0.0.0.0', { allow_anonymous: true })), { openToNetwork: true });
});
