/**
 * The one error catalogue. Every error a client can see has a stable code, an HTTP status, a gRPC
 * status and a message; routes, stages and models throw `ProntoError`s made here and never pick statuses
 * themselves. A 500 is always a bug: anything that is not a ProntoError becomes `internal`.
 */

export const ERROR_CATALOGUE = {
  invalid_json: { status: 400, grpc: 'INVALID_ARGUMENT', message: 'The request body is not valid JSON' },
  invalid_input: { status: 400, grpc: 'INVALID_ARGUMENT', message: 'The request is invalid' },
  invalid_utf8: { status: 400, grpc: 'INVALID_ARGUMENT', message: 'The request body is not valid UTF-8' },
  // Bytes the HTTP parser refuses (request line, headers, chunked framing): HTTP only.
  invalid_http: { status: 400, grpc: 'INVALID_ARGUMENT', message: 'The request is not valid HTTP' },
  request_timeout: { status: 408, grpc: 'DEADLINE_EXCEEDED', message: 'The request was not received in time' },
  headers_too_large: { status: 431, grpc: 'INVALID_ARGUMENT', message: 'The request headers are too large' },
  unknown_namespace: { status: 404, grpc: 'NOT_FOUND', message: 'The namespace does not exist' },
  unknown_model: { status: 404, grpc: 'NOT_FOUND', message: 'The model does not exist' },
  unknown_flow: { status: 404, grpc: 'NOT_FOUND', message: 'The flow does not exist' },
  unknown_field: { status: 400, grpc: 'INVALID_ARGUMENT', message: 'The field is not known' },
  unsupported_parameter: { status: 400, grpc: 'INVALID_ARGUMENT', message: 'The parameter is not supported' },
  unauthorized: { status: 401, grpc: 'UNAUTHENTICATED', message: 'Missing or invalid credentials' },
  forbidden: { status: 403, grpc: 'PERMISSION_DENIED', message: 'Not allowed' },
  // What an API key may do (its routes, namespaces, role): the error names what was refused.
  forbidden_route: { status: 403, grpc: 'PERMISSION_DENIED', message: 'The API key may not use this route' },
  forbidden_namespace: { status: 403, grpc: 'PERMISSION_DENIED', message: 'The API key may not use this namespace' },
  operator_required: { status: 403, grpc: 'PERMISSION_DENIED', message: 'This needs an API key with role operator' },
  forbidden_variant_override: { status: 403, grpc: 'PERMISSION_DENIED', message: 'The API key may not choose a pipeline variant' },
  not_found: { status: 404, grpc: 'NOT_FOUND', message: 'Not found' },
  embedder_mismatch: { status: 409, grpc: 'FAILED_PRECONDITION', message: 'The namespace was indexed by another embedder' },
  // A field over its limit: resending the same request cannot succeed, so not RESOURCE_EXHAUSTED.
  payload_too_large: { status: 413, grpc: 'INVALID_ARGUMENT', message: 'The request body is too large' },
  // More work than the request's deadline allows even on an idle model: a retry cannot succeed.
  too_large_for_deadline: { status: 413, grpc: 'INVALID_ARGUMENT', message: 'The request holds more work than its deadline allows' },
  unsupported_media_type: { status: 415, grpc: 'INVALID_ARGUMENT', message: 'Unsupported content type' },
  rate_limited: { status: 429, grpc: 'RESOURCE_EXHAUSTED', message: 'Too many requests' },
  queue_full: { status: 429, grpc: 'RESOURCE_EXHAUSTED', message: 'The queue is full' },
  overloaded: { status: 503, grpc: 'UNAVAILABLE', message: 'The service is overloaded' },
  not_ready: { status: 503, grpc: 'UNAVAILABLE', message: 'The service is not ready' },
  shutting_down: { status: 503, grpc: 'UNAVAILABLE', message: 'The service is shutting down' },
  circuit_open: { status: 503, grpc: 'UNAVAILABLE', message: 'The dependency is failing; its circuit breaker is open' },
  store_unavailable: { status: 503, grpc: 'UNAVAILABLE', message: 'A store the service depends on (Redis) is unavailable' },
  upstream_failed: { status: 502, grpc: 'UNAVAILABLE', message: 'A model or store call failed' },
  deadline_exceeded: { status: 504, grpc: 'DEADLINE_EXCEEDED', message: 'The deadline passed before a useful answer was ready' },
  cancelled: { status: 499, grpc: 'CANCELLED', message: 'The client went away' },
  internal: { status: 500, grpc: 'INTERNAL', message: 'Internal error' },
} as const satisfies Record<string, { status: number; grpc: GrpcStatusName; message: string }>;

/** gRPC status names (the `grpc.status` enum's keys), so core needs no gRPC import. */
export type GrpcStatusName =
  | 'CANCELLED'
  | 'INVALID_ARGUMENT'
  | 'DEADLINE_EXCEEDED'
  | 'NOT_FOUND'
  | 'FAILED_PRECONDITION'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'INTERNAL'
  | 'UNAVAILABLE'
  | 'UNAUTHENTICATED';

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface ProntoErrorOptions {
  /** The request field the error is about, as a JSON path such as `messages[0].content`. */
  field?: string;
  /** Seconds the client should wait before retrying (sent as `Retry-After`). */
  retryAfterS?: number;
  /** Extra machine-readable detail (e.g. the stages completed before a deadline). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class ProntoError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly grpcStatus: GrpcStatusName;
  readonly field?: string;
  readonly retryAfterS?: number;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message?: string, options: ProntoErrorOptions = {}) {
    super(message ?? ERROR_CATALOGUE[code].message, { cause: options.cause });
    this.name = 'ProntoError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.grpcStatus = ERROR_CATALOGUE[code].grpc;
    this.field = options.field;
    this.retryAfterS = options.retryAfterS;
    this.details = options.details;
  }

  /** The JSON body every error response carries: `{"error":{"code","message","field?"}}`. */
  toBody(): { error: Record<string, unknown> } {
    const error: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.field !== undefined) error.field = this.field;
    if (this.details !== undefined) Object.assign(error, this.details);
    return { error };
  }
}

/**
 * A start-up configuration problem, naming the key at fault (the first one, when there are
 * several). Not a ProntoError: it never reaches a client, it stops the process before it serves.
 * It lives here, at the bottom, so any layer that validates its own slice of config can throw it.
 */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`config: ${key || '(root)'}: ${message}`);
    this.name = 'ConfigError';
  }

  /** Every problem found, one line each, so a config is fixed in one round. */
  static of(problems: ConfigProblem[]): ConfigError {
    if (problems.length === 1) return new ConfigError(problems[0].key, problems[0].message);
    const error = new ConfigError(problems[0].key, problems[0].message);
    error.message = [`config: ${problems.length} problems`, ...problems.map((p) => `  ${p.key || '(root)'}: ${p.message}`)].join('\n');
    return error;
  }
}

export interface ConfigProblem {
  key: string;
  message: string;
}

export function invalidInput(field: string, message: string): ProntoError {
  return new ProntoError('invalid_input', message, { field });
}

/** True for a ProntoError (of `code`, when given). */
export function isProntoError(err: unknown, code?: ErrorCode): err is ProntoError {
  return err instanceof ProntoError && (code === undefined || err.code === code);
}

/** Codes of transient failures: the same call may succeed later. */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set<ErrorCode>(['overloaded', 'store_unavailable', 'upstream_failed', 'rate_limited', 'queue_full', 'circuit_open']);

/** Errors worth retrying (the failure is transient and the call idempotent). */
export function isRetryable(err: unknown): boolean {
  if (!isProntoError(err)) return true;
  return RETRYABLE_CODES.has(err.code);
}

export function isAbortError(err: unknown): boolean {
  return (
    (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) ||
    (isProntoError(err) && (err.code === 'deadline_exceeded' || err.code === 'cancelled'))
  );
}
