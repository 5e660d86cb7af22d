import { once, type EventEmitter } from 'node:events';
import { Metadata, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js';
import { DEFAULT_VARIANT } from '../../config/variants.js';
import type { ApiKeyRecord } from '../../config/auth.js';
import type { Config } from '../../config/schema.js';
import { ProntoError } from '../../core/errors.js';
import type { RequestContext } from '../../pipeline/types.js';
import type { Runtime } from '../../runtime.js';
import type { FrontDoor } from '../app.js';
import { OPEN_KEY, PUBLIC_TENANT } from '../front/auth.js';
import { openRequest, requestDeadlineMs, type OpenRequest } from '../front/request-context.js';
import { rateLimitHeaders, rateLimited, requestPolicy } from '../front/rate-limit.js';
import { variantFor } from '../front/variant.js';
import { logFailure, toProntoError } from '../plugins/errors.js';
import { CACHE_HEADER, cacheHeader } from '../plugins/request-context.js';
import { observeRequest } from '../plugins/request-observer.js';
import { REQUEST_ID_HEADER, requestIdOf } from '../plugins/request-id.js';
import { rememberRequest } from '../routes/feedback.js';
import { VARIANT_HEADER } from '../../pipeline/variants/router.js';
import type { StatusMapper } from './status.js';

type GrpcFailure = ReturnType<StatusMapper>;

/** How a method is served: whether it opens an answer stream, whether variants split it (as its HTTP twin). */
export interface CallOptions {
  stream?: boolean;
  split?: boolean;
}

/** A method's work, given the request's pipeline context and the caller's key. */
export type CallWork<Req, Res> = (request: Req, ctx: RequestContext, key: ApiKeyRecord) => Promise<Res>;
/** A streaming method's work: `send` resolves when the message is written (backpressure). */
export type StreamWork<Req, Res> = (request: Req, ctx: RequestContext, key: ApiKeyRecord, send: (message: Res) => Promise<void>) => Promise<void>;

export interface CallDeps {
  runtime: Runtime;
  front: FrontDoor;
  toStatus: StatusMapper;
}

type AnyCall = ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>;

/**
 * Wraps pronto's methods in the front door every HTTP /v1 request passes: request id, auth
 * (`authorization` metadata), lag shedding and admission, the rate limit, then a pipeline context
 * whose deadline is the call's gRPC deadline (capped by deadline.max_ms) and which the client's
 * cancel aborts. Every outcome is counted in the request metrics with route = the gRPC method.
 * (A closure over the front door: `serve` and the two call shapes built on it.)
 */
export function createCallWrappers(deps: CallDeps) {
  const { runtime, front, toStatus } = deps;
  const { config, metrics } = runtime;

  /**
   * Runs one call through the front door. What HTTP says in response headers goes in the trailing
   * metadata, whatever the outcome: `ratelimit-policy` and `ratelimit`, `x-pronto-variant`,
   * `x-pronto-cache` (the initial metadata leaves before the key, the limit or the variant are known).
   */
  async function serve(
    path: string,
    call: AnyCall,
    work: (ctx: RequestContext, key: ApiKeyRecord) => Promise<void>,
    options: CallOptions = {},
  ): Promise<{ failure?: GrpcFailure; trailer: Metadata }> {
    const startedAt = performance.now();
    // The same id rules as HTTP (a PII-carrying id is replaced), sent back as HTTP's header is.
    const requestId = requestIdOf(first(call.metadata, REQUEST_ID_HEADER), runtime.redactor);
    const sent = new Metadata();
    sent.set(REQUEST_ID_HEADER, requestId);
    call.sendMetadata(sent);
    const trailer = new Metadata();
    let key: ApiKeyRecord | undefined;
    let variant: string | undefined;
    let release: (() => void) | undefined;
    let releaseStream: (() => void) | undefined;
    let opened: OpenRequest<Runtime['logger']> | undefined;
    let failure: ProntoError | undefined;
    try {
      key = front.auth.authenticate({ authorization: first(call.metadata, 'authorization'), apiKey: first(call.metadata, 'x-api-key') });
      // A key's routes name gRPC methods by their path (/pronto.v1.Pronto/Search).
      front.auth.authorizeRoute(key, path);
      if (front.lagging()) front.admission.refuseLagging();
      release = front.admission.admit();
      await countRequest(front.rateLimit, { path, key, peer: call.getPeer(), config: config.rate_limit, trailer });
      if (options.split) variant = grpcVariant(call, key);
      if (options.stream) releaseStream = await front.limits.openStream(key);
      opened = openRequest(runtime.tracing, {
        name: path,
        carrier: call.metadata.getMap(),
        attributes: { 'rpc.system': 'grpc', 'rpc.method': path },
        logger: runtime.logger,
        apiKey: key,
        tokenBudget: front.limits.tokenBudget(key),
        requestId,
        deadlineMs: requestDeadlineMs(config, askedDeadlineMs(call)),
        variant,
      });
      const { ctx } = opened;
      (call as EventEmitter).once('cancelled', () => {
        // grpc-js cancels a call whose deadline passed too: that is the deadline, not a client leaving.
        if (!deadlinePassed(call)) ctx.deadline.cancel();
      });
      await work(ctx, key);
      // A stream that ended because its client left (or its deadline passed) did not succeed.
      if (call.cancelled) throw deadlinePassed(call) ? new ProntoError('deadline_exceeded') : new ProntoError('cancelled');
    } catch (err) {
      failure = call.cancelled && !deadlinePassed(call) ? new ProntoError('cancelled') : toProntoError(err);
      logFailure(opened?.logger ?? runtime.logger, runtime.redactor, failure, err, { request_id: requestId, method: path });
    } finally {
      release?.();
      releaseStream?.();
      const status = failure?.status ?? 200;
      const ms = performance.now() - startedAt;
      if (variant !== undefined) {
        trailer.set(VARIANT_HEADER, variant);
        runtime.variants.record(variant, status, ms / 1000);
      }
      if (opened?.ctx.cache) trailer.set(CACHE_HEADER, cacheHeader(opened.ctx.cache));
      metrics.requests.inc({ method: 'GRPC', route: path, status: String(status) });
      metrics.requestDuration.observe({ method: 'GRPC', route: path, status: String(status) }, ms / 1000);
      opened?.finish(failure && failure.status >= 500 ? String(failure.status) : 'ok', { 'rpc.grpc.status_code': failure?.grpcStatus ?? 'OK' });
      observeRequest(runtime, {
        id: requestId,
        method: 'GRPC',
        route: path,
        status,
        ms: Math.round(ms * 10) / 10,
        tenant: key?.tenant ?? PUBLIC_TENANT,
        operational: false,
        ctx: opened?.ctx,
        log: opened?.logger ?? runtime.logger,
      });
      if (!failure && key !== undefined) rememberRequest(runtime.requests, { tenant: key.tenant, requestId, variant: opened?.ctx.variant ?? DEFAULT_VARIANT }, runtime.logger);
    }
    return { failure: failure && withTrailer(toStatus(failure, requestId, opened?.ctx), trailer), trailer };
  }

  /** The variant of a split call, chosen as its HTTP twin's: sticky per `user_id`, else key, else peer. */
  function grpcVariant(call: AnyCall, key: ApiKeyRecord): string {
    const userId = (call.request as { user_id?: unknown } | undefined)?.user_id;
    return variantFor(runtime.variants, {
      tenant: key.tenant,
      userId,
      // Open (no keys): every caller holds the one open key, so the peer tells callers apart.
      keyId: key === OPEN_KEY ? undefined : key.id,
      address: peerAddress(call.getPeer()),
      forced: first(call.metadata, VARIANT_HEADER),
      mayForce: key.allow_variant_override,
    });
  }

  return {
    unary<Req, Res>(path: string, work: CallWork<Req, Res>, options: CallOptions = {}) {
      return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
        let response: Res | undefined;
        void serve(
          path,
          call as AnyCall,
          async (ctx, key) => {
            response = await work(call.request, ctx, key);
          },
          options,
        ).then(({ failure, trailer }) => (failure ? callback(failure) : callback(null, response, trailer)));
      };
    },
    serverStream<Req, Res>(path: string, work: StreamWork<Req, Res>, options: CallOptions = {}) {
      return (call: ServerWritableStream<Req, Res>) => {
        const send = async (message: Res) => {
          if (call.cancelled) throw new ProntoError('cancelled');
          if (!call.write(message)) await Promise.race([once(call, 'drain'), once(call, 'cancelled')]);
        };
        void serve(path, call as AnyCall, (ctx, key) => work(call.request, ctx, key, send), { ...options, stream: true }).then(({ failure, trailer }) =>
          failure ? call.emit('error', failure) : call.end(trailer),
        );
      };
    },
  };
}

function first(metadata: Metadata, key: string): unknown {
  return metadata.get(key)[0];
}

function callDeadline(call: AnyCall): number | undefined {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? at : undefined;
}

/** The call's gRPC deadline as the milliseconds left (none: the configured default applies). */
function askedDeadlineMs(call: AnyCall): number | undefined {
  const at = callDeadline(call);
  return at === undefined ? undefined : Math.max(0, at - Date.now());
}

/** grpc-js's own deadline timer may fire a few ms before the wall clock reaches the deadline. */
const DEADLINE_SLACK_MS = 20;

function deadlinePassed(call: AnyCall): boolean {
  const at = callDeadline(call);
  return at !== undefined && Date.now() >= at - DEADLINE_SLACK_MS;
}

/** The client's address from grpc-js's peer (`127.0.0.1:5555`, `[::1]:5555`). */
function peerAddress(peer: string): string {
  return peer.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
}

/** Adds what the trailer says (rate limit, variant, cache) to a failed call's status metadata. */
function withTrailer(failure: GrpcFailure, trailer: Metadata): GrpcFailure {
  failure.metadata?.merge(trailer);
  return failure;
}

interface CountedCall {
  path: string;
  key: ApiKeyRecord;
  peer: string;
  config: Config['rate_limit'];
  /** Gets the IETF RateLimit headers' values, as HTTP sends them, when a limit applies. */
  trailer: Metadata;
}

/** The HTTP request limit's check on its own store: the same policy, counter and budget. */
async function countRequest(check: FrontDoor['rateLimit'], { path, key, peer, config, trailer }: CountedCall): Promise<void> {
  // What the limiter reads of a request: its key record and address (requestPolicy) and its route,
  // which is not operational (the allow-list), so the call is counted.
  const ip = peerAddress(peer);
  const request = { apiKey: key, ip, routeOptions: { url: path, config: {} } };
  const limit = await check(request as unknown as Parameters<typeof check>[0]);
  if (limit.isAllowed) return;
  const policy = requestPolicy(key, ip, config)!;
  for (const [name, value] of Object.entries(rateLimitHeaders(policy, limit))) trailer.set(name, value);
  if (limit.isExceeded) throw rateLimited(policy, limit.ttl);
}
