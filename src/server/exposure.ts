import ipaddr from 'ipaddr.js';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../core/errors.js';
import { loadKeyRecords } from '../config/keys.js';

/** True for an address only this machine can reach (127.0.0.0/8, ::1, `localhost`). */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  return ipaddr.isValid(host) && ipaddr.process(host).range() === 'loopback';
}

/**
 * Refuses to serve without API keys on an address other machines can reach, unless the config
 * says `auth.allow_anonymous: true` (as Redis's protected mode refuses): an open service on a
 * public interface should be a decision, never a default. Returns whether it is open to the
 * network anyway, so the caller says so loudly.
 */
export function checkExposure(config: Config): { openToNetwork: boolean } {
  if (loadKeyRecords(config.auth).length > 0 || isLoopbackHost(config.server.host)) return { openToNetwork: false };
  if (!config.auth.allow_anonymous) {
    throw new ConfigError(
      'auth.allow_anonymous',
      `server.host ${config.server.host} is reachable from other machines and no API keys are configured (auth.keys, auth.keys_file): ` +
        'configure API keys, bind 127.0.0.1, or set auth.allow_anonymous: true to serve anyone who connects',
    );
  }
  return { openToNetwork: true };
}
