import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Callback signatures, Stripe-style: `x-pronto-signature: t=<unix seconds>,v1=<hex>` where the
 * hex is HMAC-SHA256(secret, `${t}.${body}`). Signing the timestamp with the body lets receivers
 * refuse replays older than a few minutes.
 */

export const SIGNATURE_HEADER = 'x-pronto-signature';

export function signCallback(secret: string, body: string, timestampS: number): string {
  return `t=${timestampS},v1=${hmacHex(secret, timestampS, body)}`;
}

/** True when `header` signs `body` with `secret` and its timestamp is within `toleranceS` of now. */
export function verifyCallback(
  secret: string,
  header: string | undefined,
  body: string,
  options: { toleranceS?: number; nowS?: number } = {},
): boolean {
  if (!header) return false;
  const parts = new Map(header.split(',').map((part) => part.trim().split('=', 2) as [string, string]));
  const timestamp = Number(parts.get('t'));
  const given = parts.get('v1');
  if (!Number.isInteger(timestamp) || !given || !/^[0-9a-f]{64}$/.test(given)) return false;
  const now = options.nowS ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceS ?? 300)) return false;
  return timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(hmacHex(secret, timestamp, body), 'hex'));
}

function hmacHex(secret: string, timestampS: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex');
}
