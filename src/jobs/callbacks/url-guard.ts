import { lookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { invalidInput } from '../../core/errors.js';

/**
 * SSRF guard for callback URLs: http/https only, and every address the host resolves to must be
 * public unicast. ipaddr.js classifies ranges (loopback, private, link-local, unique-local,
 * carrier-grade NAT, multicast, reserved, IPv4-mapped, 6to4, ...); anything but `unicast` is
 * refused unless `allow_private` is set. The check runs at submit time and again on the address
 * the delivery actually connects to (see `guardedLookup`), so DNS rebinding cannot slip past.
 */

export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  // process() turns ::ffff:10.0.0.1 into 10.0.0.1 so the IPv4 ranges apply to mapped addresses.
  return ipaddr.process(address).range() === 'unicast';
}

/** Validates a callback URL at submit time; throws a 400 naming `callback_url`. */
export async function checkCallbackUrl(raw: string, allowPrivate: boolean): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidInput('callback_url', 'callback_url is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidInput('callback_url', 'callback_url must be an http or https URL');
  }
  if (url.username || url.password) throw invalidInput('callback_url', 'callback_url must not carry credentials');
  if (allowPrivate) return url;
  const addresses = await resolve(url.hostname);
  if (addresses.length === 0) throw invalidInput('callback_url', `callback_url host ${url.hostname} does not resolve`);
  const blocked = addresses.find((a) => !isPublicAddress(a.address));
  if (blocked) {
    throw invalidInput('callback_url', `callback_url resolves to a non-public address (${blocked.address})`);
  }
  return url;
}

async function resolve(hostname: string): Promise<LookupAddress[]> {
  const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  if (isIP(host)) return [{ address: host, family: isIP(host) }];
  try {
    return await lookup(host, { all: true, verbatim: true });
  } catch {
    return [];
  }
}

/** The error code of a connection refused because the host resolved only to non-public addresses. */
export const BLOCKED_ADDRESS = 'ERR_PRONTO_BLOCKED_ADDRESS';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for undici's connector: resolves like the system resolver, then refuses non-public
 * addresses, so the connection goes to exactly the address that was checked.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    // resolve() never rejects: a failed lookup is an empty list.
    void resolve(hostname).then((addresses) => {
      const allowed = allowPrivate ? addresses : addresses.filter((a) => isPublicAddress(a.address));
      if (allowed.length === 0) {
        const blocked = addresses.length > 0;
        const err: NodeJS.ErrnoException = new Error(
          blocked ? `callback host ${hostname} has no public address` : `callback host ${hostname} does not resolve`,
        );
        err.code = blocked ? BLOCKED_ADDRESS : 'ENOTFOUND';
        callback(err, '');
      } else if (options.all) callback(null, allowed);
      else callback(null, allowed[0].address, allowed[0].family);
    });
  };
}
