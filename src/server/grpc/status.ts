import { Metadata, status as GrpcStatus, type StatusObject } from '@grpc/grpc-js';
import type { Type } from 'protobufjs';
import type { ProntoError } from '../../core/errors.js';
import type { RequestContext } from '../../pipeline/types.js';
import { loadErrorDetails } from './proto.js';

/** The trailer where gRPC clients look for a google.rpc.Status with rich error details. */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

type Details = ReturnType<typeof loadErrorDetails>;

/**
 * A ProntoError as a gRPC status: the catalogue's gRPC code, its message, and a google.rpc.Status
 * in the trailers carrying an ErrorInfo (reason = catalogue code), a BadRequest naming the field,
 * and a RetryInfo when a retry may succeed (the gRPC twin of Retry-After).
 */
export function createStatusMapper(details: Details = loadErrorDetails()) {
  const pack = (type: Type, message: Record<string, unknown>) => ({
    type_url: `type.googleapis.com/${type.fullName.slice(1)}`,
    value: type.encode(type.fromObject(message)).finish(),
  });
  return (error: ProntoError, requestId: string, ctx?: RequestContext): Partial<StatusObject> & { code: GrpcStatus } => {
    const code = GrpcStatus[error.grpcStatus];
    const info: Record<string, string> = { request_id: requestId };
    if (error.field !== undefined) info.field = error.field;
    if (error.code === 'deadline_exceeded' && ctx) {
      // Say what was done before the deadline passed, so the client can judge a retry (as over HTTP).
      info.completed_stages = JSON.stringify(ctx.timings);
      info.degraded = JSON.stringify(ctx.degraded);
    }
    const packed = [pack(details.ErrorInfo, { reason: error.code, domain: 'pronto', metadata: info })];
    if (error.field !== undefined) packed.push(pack(details.BadRequest, { field_violations: [{ field: error.field, description: error.message }] }));
    if (error.retryAfterS !== undefined) {
      const seconds = Math.max(1, Math.ceil(error.retryAfterS));
      packed.push(pack(details.RetryInfo, { retry_delay: { seconds, nanos: 0 } }));
    }
    const metadata = new Metadata();
    metadata.set(STATUS_DETAILS_KEY, Buffer.from(details.Status.encode(details.Status.fromObject({ code, message: error.message, details: packed })).finish()));
    return { code, details: error.message, metadata };
  };
}

export type StatusMapper = ReturnType<typeof createStatusMapper>;
