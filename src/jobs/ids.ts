import { createHash, randomUUID } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A job id: random, or derived from (tenant, idempotency key) so that the same key from the same
 * tenant always names the same job. Both backends then get idempotency from "add if absent" on
 * the id (BullMQ does it atomically in its add script), with no separate key index to keep.
 */
export function newJobId(tenant: string, idempotencyKey?: string): string {
  if (idempotencyKey === undefined) return randomUUID();
  const hex = createHash('sha256').update(`pronto-job\0${tenant}\0${idempotencyKey}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Ids we never issued are answered 404 without a store lookup. */
export function isJobId(id: string): boolean {
  return UUID.test(id);
}
