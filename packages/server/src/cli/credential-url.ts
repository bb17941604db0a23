import { isLoopbackHost } from '../config/server-config.js';
import { UsageError } from './output.js';

/**
 * The remote CLI sends a credential to two URLs: the admin client's secret to the token endpoint
 * and the admin token to the server. Each must be https, or http on loopback (a local server), so
 * neither crosses a network in the clear — checked before anything is sent, and for each URL on
 * its own, since the token endpoint may be given apart from the server.
 */
export function requireCredentialUrl(url: string, option: string, credential: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${option}: not a URL (${JSON.stringify(url.slice(0, 200))}); give an absolute https URL`);
  }
  if (parsed.protocol === 'https:') return;
  if (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname)) return;
  throw new UsageError(
    `${option}: refusing to send ${credential} to ${parsed.protocol}//${parsed.host}: use https (plain http is allowed on loopback only: localhost, 127.x.x.x, [::1])`,
  );
}
