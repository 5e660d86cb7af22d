import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { RawHttpPool } from '../../src/cli/bench/raw-http.js';

/**
 * The open loop's raw client against a loopback socket server that answers in awkward pieces: a
 * response split mid-head and mid-body, and one without Content-Length, which the client refuses
 * by name rather than hanging.
 */
describe('bench raw HTTP client', () => {
  let server: Server;
  let url: URL;
  const requests: string[] = [];

  before(async () => {
    server = createServer((socket) => {
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString('latin1');
        for (let end = received.indexOf('\r\n\r\n'); end >= 0; end = received.indexOf('\r\n\r\n')) {
          const length = Number(/content-length: (\d+)/i.exec(received.slice(0, end))?.[1] ?? 0);
          if (received.length < end + 4 + length) return;
          const body = received.slice(end + 4, end + 4 + length);
          requests.push(received.slice(0, end + 4 + length));
          received = received.slice(end + 4 + length);
          answer(socket, body);
        }
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address() as { port: number };
    url = new URL(`http://127.0.0.1:${address.port}`);
  });
  after(() => server.close());

  function answer(socket: import('node:net').Socket, body: string): void {
    const { kind } = JSON.parse(body) as { kind: string };
    if (kind === 'chunked') {
      socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n');
      return;
    }
    const status = kind === 'busy' ? '503 Service Unavailable' : '200 OK';
    const reply = `HTTP/1.1 ${status}\r\nContent-Length: 11\r\n\r\nhello world`;
    // In three pieces, the first ending inside the head: the client must wait for all of it.
    socket.write(reply.slice(0, 10));
    setTimeout(() => socket.write(reply.slice(10, reply.length - 4)), 5);
    setTimeout(() => socket.write(reply.slice(reply.length - 4)), 10);
  }

  test('reads each status once its whole body is there, reusing one socket', async () => {
    const pool = new RawHttpPool(url, 1);
    try {
      const statuses = await Promise.all([pool.post('/a', '{"kind":"ok"}'), pool.post('/b', '{"kind":"busy"}'), pool.post('/c', '{"kind":"ok"}')]);
      assert.deepEqual(statuses, [200, 503, 200]);
      assert.match(requests.at(-1)!, /^POST \/c HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\ncontent-type: application\/json\r\ncontent-length: 13\r\n\r\n\{"kind":"ok"\}$/);
    } finally {
      pool.close();
    }
  });

  test('a response without Content-Length fails by name', async () => {
    const pool = new RawHttpPool(url, 1);
    try {
      await assert.rejects(pool.post('/d', '{"kind":"chunked"}'), /reads only Content-Length bodies; got: HTTP\/1\.1 200 OK/);
    } finally {
      pool.close();
    }
  });
});
