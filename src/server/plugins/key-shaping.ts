import { Transform, type Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { bodyOverKeyLimit, checkBodyBytes, shapeRequest } from '../front/request-shaping.js';

/**
 * The caller key's request shaping (limits.max_*; front/request-shaping.ts) on HTTP: the body's
 * bytes while it is read (Content-Length refused before reading; a chunked body cut off where it
 * passes the cap), then its fields once the route's schema has passed them.
 */
export function registerKeyShaping(app: FastifyInstance): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    const max = request.apiKey.limits.max_body_bytes;
    if (max === undefined) return payload;
    const declared = Number(request.headers['content-length']);
    checkBodyBytes(request.apiKey, declared || 0);
    // A declared length is checked against what arrives by Fastify: only a chunked body needs counting.
    return Number.isNaN(declared) ? capped(payload, max, () => bodyOverKeyLimit(request.apiKey)) : payload;
  });
  app.addHook('preHandler', (request, _reply, done) => {
    shapeRequest(request.apiKey, request.body);
    done();
  });
}

/** The body stream, failing with `refusal()` once more than `max` bytes have come through. */
function capped(payload: Readable, max: number, refusal: () => Error): Readable {
  let bytes = 0;
  return payload.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        done(bytes > max ? refusal() : null, chunk);
      },
    }),
  );
}
