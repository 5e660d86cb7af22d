import { ProntoError } from '../../core/errors.js';
import { VARIANT_HEADER, type VariantRouter } from '../../pipeline/variants/router.js';

/** Who is asking, as far as the choice of a variant goes (HTTP and gRPC alike). */
export interface VariantCaller {
  tenant: string;
  /** The request's `user_id`, when it names one. */
  userId?: unknown;
  /** The API key's id when auth is on. */
  keyId?: string;
  /** The client's address: the last resort for stickiness with neither. */
  address: string;
  /** The `x-pronto-variant` header or metadata, when sent. */
  forced?: unknown;
  /** Whether the caller's key may force a variant. */
  mayForce: boolean;
}

/**
 * The variant of an API request: sticky per user id (within its tenant), else per API key, else
 * per client address, unless the caller forces one it is allowed to.
 */
export function variantFor(router: VariantRouter, caller: VariantCaller): string {
  const { forced } = caller;
  if (forced !== undefined && typeof forced !== 'string') {
    throw new ProntoError('invalid_input', `Send ${VARIANT_HEADER} once`, { field: VARIANT_HEADER });
  }
  return router.choose({ stickyKey: stickyKeyOf(caller), forced, mayForce: caller.mayForce });
}

function stickyKeyOf({ tenant, userId, keyId, address }: VariantCaller): string {
  if (typeof userId === 'string' && userId !== '') return `user\0${tenant}\0${userId}`;
  if (keyId !== undefined) return `key\0${keyId}`;
  return `address\0${address}`;
}
