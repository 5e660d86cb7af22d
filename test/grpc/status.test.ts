import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { ERROR_CATALOGUE, ProntoError, type ErrorCode } from '../../src/core/errors.js';
import { createStatusMapper } from '../../src/server/grpc/status.js';
import { errorDetails } from '../support/grpc.js';

// The mapping, by number as a client sees it. PERMISSION_DENIED has no call that reaches it
// today (`forbidden` is raised only when a callback is delivered), so it is held here.
const EXPECTED: Partial<Record<ErrorCode, number>> = {
  invalid_input: 3,
  unknown_field: 3,
  payload_too_large: 3,
  unauthorized: 16,
  forbidden: 7,
  not_found: 5,
  unknown_namespace: 5,
  rate_limited: 8,
  queue_full: 8,
  overloaded: 14,
  not_ready: 14,
  deadline_exceeded: 4,
  cancelled: 1,
  internal: 13,
};

test('each catalogue code maps to its gRPC status, with ErrorInfo, BadRequest and RetryInfo details', () => {
  const toStatus = createStatusMapper();
  for (const code of Object.keys(ERROR_CATALOGUE) as ErrorCode[]) {
    const mapped = toStatus(new ProntoError(code, undefined, { field: 'namespace', retryAfterS: 2.5 }), 'req-1');
    assert.equal(mapped.code, status[ERROR_CATALOGUE[code].grpc], code);
    if (EXPECTED[code] !== undefined) assert.equal(mapped.code, EXPECTED[code], code);
    const details = errorDetails({ metadata: mapped.metadata } as never);
    assert.equal(details.code, mapped.code);
    assert.equal(details.reason, code);
    assert.equal(details.metadata.request_id, 'req-1');
    assert.equal(details.field, 'namespace');
    assert.equal(details.retryDelayS, 3, 'RetryInfo rounds Retry-After up to whole seconds');
  }
  const bare = errorDetails({ metadata: toStatus(new ProntoError('internal'), 'req-2').metadata } as never);
  assert.deepEqual([bare.field, bare.retryDelayS], [undefined, undefined], 'no BadRequest without a field, no RetryInfo without Retry-After');
});
