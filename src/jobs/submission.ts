import type { JobsConfig } from '../config/jobs.js';
import { ProntoError } from '../core/errors.js';
import { checkCallbackUrl } from './callbacks/url-guard.js';
import { newJobId } from './ids.js';
import { redactDeep } from '../core/redact-deep.js';
import type { JobRecord } from './run.js';
import { DEFAULT_PRIORITY, type SubmitRequest } from './types.js';

/**
 * The part of submitting both backends share: the callback URL checked (SSRF), the input
 * redacted before it is stored anywhere, and the id derived from the idempotency key.
 */
export async function prepareJob(request: SubmitRequest, config: JobsConfig, redact: (text: string) => string): Promise<JobRecord> {
  const callbackUrl =
    request.callbackUrl === undefined ? undefined : (await checkCallbackUrl(request.callbackUrl, config.callbacks.allow_private)).href;
  return {
    id: newJobId(request.tenant, request.idempotencyKey),
    tenant: request.tenant,
    kind: request.kind,
    input: redactDeep(request.input, redact),
    callbackUrl,
    priority: request.priority ?? DEFAULT_PRIORITY,
    createdAt: Date.now(),
  };
}

export function queueFull(config: JobsConfig): ProntoError {
  return new ProntoError('queue_full', `The job queue is full (${config.max_queue_depth} jobs waiting or running)`, {
    retryAfterS: config.retry_after_s,
  });
}

export function jobNotFound(jobId: string): ProntoError {
  return new ProntoError('not_found', `No job ${jobId}`);
}
