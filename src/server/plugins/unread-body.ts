import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

/** How much of an unread body is read and thrown away so its client gets the answer (beyond: reset). */
export const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
/** How long a slow upload is waited for before the answer goes out anyway. */
export const DRAIN_MAX_MS = 10_000;

/**
 * An answer sent before its request's body was read (413 from Content-Length alone, 401, 404, 429,
 * 503 from a hook) is followed by Node closing the socket with the upload's bytes unread; the
 * kernel answers them with a reset and a client still writing (fetch, curl) sees EPIPE instead of
 * the answer. So the rest of such a body is read and discarded first, as nginx's lingering close
 * does, up to DRAIN_MAX_BYTES or DRAIN_MAX_MS. Hand-written: Fastify and Node have no option for it.
 */
export function registerUnreadBodyDrain(app: FastifyInstance): void {
  app.addHook('onSend', async (request, _reply, payload) => {
    if (hasUnreadBody(request.raw)) await drain(request.raw);
    return payload;
  });
}

function hasUnreadBody(raw: IncomingMessage): boolean {
  if (raw.complete || raw.readableEnded || raw.destroyed) return false;
  const length = Number(raw.headers['content-length'] ?? 0);
  return length > 0 || raw.headers['transfer-encoding'] !== undefined;
}

function drain(raw: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    let bytes = 0;
    const finish = () => {
      clearTimeout(timer);
      raw.off('data', onData).off('end', finish).off('error', finish).off('close', finish);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > DRAIN_MAX_BYTES) finish();
    };
    const timer = setTimeout(finish, DRAIN_MAX_MS);
    raw.on('data', onData).on('end', finish).on('error', finish).on('close', finish);
    raw.resume();
  });
}
