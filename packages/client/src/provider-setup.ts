import { memoizeSuccess } from '@m2m-auth/sdk-core';
import { ClientAuthenticator, type AppliedAuthMethod } from './client-authentication.js';
import { checkCertificateEndpoint, checkEndpointUrl, discoverProvider } from './discovery.js';
import type { ClientPreset, TokenClientOptions } from './token-client-options.js';

/** Where tokens are requested, and how the client authenticates there. */
export interface ProviderSetup {
  readonly tokenEndpoint: string;
  readonly authenticator: ClientAuthenticator;
}

/**
 * The token endpoint (configured, or from the issuer's metadata) and the authentication method
 * (the platform token with clientAssertion; else explicit, else private_key_jwt with a key, else
 * the preset's, else client_secret_basic unless the provider offers only client_secret_post). Resolved once, on first use; a failed discovery
 * is retried by the next call.
 */
export function createProviderSetup(
  options: TokenClientOptions,
  where: {
    issuer: string | undefined;
    tokenEndpoint: string | undefined;
    preset: ClientPreset | undefined;
    fetch: typeof fetch;
    timeoutMs: number;
    allowInsecureHttp: boolean;
  },
): () => Promise<ProviderSetup> {
  return memoizeSuccess(async () => {
    let tokenEndpoint = where.tokenEndpoint;
    let offered: readonly string[] | undefined;
    if (!tokenEndpoint) {
      const metadata = await discoverProvider(where.issuer!, where.fetch, where.timeoutMs);
      // RFC 8705 §5: a client presenting a certificate uses the alias when the issuer names one.
      tokenEndpoint = (options.mtls ? metadata.mtlsTokenEndpoint : undefined) ?? metadata.tokenEndpoint;
      checkEndpointUrl(tokenEndpoint, where.allowInsecureHttp);
      if (options.mtls) checkCertificateEndpoint(tokenEndpoint);
      offered = metadata.authMethods;
    }
    const method: AppliedAuthMethod =
      (options.clientAssertion !== undefined ? 'platform_assertion' : options.authMethod) ??
      (options.privateKey !== undefined ? 'private_key_jwt' : where.preset?.authMethod) ??
      (options.mtls && options.clientSecret === undefined ? certificateMethod(offered) : undefined) ??
      (offered && !offered.includes('client_secret_basic') && offered.includes('client_secret_post') ? 'client_secret_post' : 'client_secret_basic');
    return { tokenEndpoint, authenticator: new ClientAuthenticator(options, method) };
  });
}

/** tls_client_auth, unless the provider offers only the self-signed kind (the request is the same; the server's check differs). */
function certificateMethod(offered: readonly string[] | undefined): AppliedAuthMethod {
  return offered && !offered.includes('tls_client_auth') && offered.includes('self_signed_tls_client_auth') ? 'self_signed_tls_client_auth' : 'tls_client_auth';
}
