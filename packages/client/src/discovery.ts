import { TokenClientError } from './errors.js';
import { fetchIssuerMetadata } from '@m2m-auth/sdk-core';

export interface ProviderMetadata {
  tokenEndpoint: string;
  /** RFC 8705 §5: `mtls_endpoint_aliases.token_endpoint`, where a client presenting a certificate goes. */
  mtlsTokenEndpoint: string | undefined;
  authMethods: readonly string[] | undefined;
}

/** The token endpoint and auth methods from the issuer's metadata (RFC 8414, else OpenID Connect Discovery). */
export async function discoverProvider(issuer: string, fetchImpl: typeof fetch, timeoutMs: number): Promise<ProviderMetadata> {
  let metadata: Readonly<Record<string, unknown>>;
  try {
    metadata = await fetchIssuerMetadata(issuer, fetchImpl, timeoutMs);
  } catch (error) {
    throw new TokenClientError('discovery_failed', (error as Error).message, { cause: error });
  }
  if (typeof metadata.token_endpoint !== 'string')
    throw new TokenClientError('discovery_failed', `discovery failed for ${issuer} (metadata has no token_endpoint)`);
  const methods = metadata.token_endpoint_auth_methods_supported;
  const aliases = metadata.mtls_endpoint_aliases;
  const mtlsTokenEndpoint = aliases && typeof aliases === 'object' ? (aliases as Record<string, unknown>).token_endpoint : undefined;
  return {
    tokenEndpoint: metadata.token_endpoint,
    mtlsTokenEndpoint: typeof mtlsTokenEndpoint === 'string' ? mtlsTokenEndpoint : undefined,
    authMethods: Array.isArray(methods) ? methods.filter((m): m is string => typeof m === 'string') : undefined,
  };
}

/** http: only on loopback (development); anything else must be https:. */
export function checkEndpointUrl(url: string, allowInsecureHttp: boolean): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TokenClientError('configuration_error', `not a URL: ${url.slice(0, 200)}`);
  }
  if (parsed.protocol === 'https:') return;
  const loopback = parsed.hostname === 'localhost' || parsed.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(parsed.hostname);
  if (parsed.protocol === 'http:' && (loopback || allowInsecureHttp)) return;
  throw new TokenClientError(
    'configuration_error',
    `refusing to send credentials to ${parsed.protocol}//${parsed.host}: use https (http is allowed on loopback only)`,
  );
}

/** A certificate is presented only in a TLS handshake: over http: the server would never see it. */
export function checkCertificateEndpoint(url: string): void {
  if (!url.startsWith('https:')) {
    throw new TokenClientError(
      'configuration_error',
      `mtls needs an https token endpoint: a client certificate cannot be presented over ${url.split(':')[0]}:`,
    );
  }
}
