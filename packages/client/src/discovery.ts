import { TokenClientError } from './errors.js';

export interface ProviderMetadata {
  tokenEndpoint: string;
  authMethods: readonly string[] | undefined;
}

/** RFC 8414 metadata, else OpenID Connect Discovery; the document must name the issuer asked for. */
export async function discoverProvider(issuer: string, fetchImpl: typeof fetch, timeoutMs: number): Promise<ProviderMetadata> {
  const base = issuer.replace(/\/+$/, '');
  const failures: string[] = [];
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    try {
      const response = await fetchImpl(`${base}${path}`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) {
        failures.push(`${path} ${response.status}`);
        continue;
      }
      const metadata = (await response.json()) as Record<string, unknown>;
      if (metadata.issuer !== issuer && metadata.issuer !== base) throw new Error(`metadata names issuer ${String(metadata.issuer)}`);
      if (typeof metadata.token_endpoint !== 'string') throw new Error('metadata has no token_endpoint');
      const methods = metadata.token_endpoint_auth_methods_supported;
      return { tokenEndpoint: metadata.token_endpoint, authMethods: Array.isArray(methods) ? methods.filter((m): m is string => typeof m === 'string') : undefined };
    } catch (error) {
      failures.push(`${path}: ${(error as Error).message}`);
    }
  }
  throw new TokenClientError('discovery_failed', `discovery failed for ${issuer} (${failures.join('; ')})`);
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
  throw new TokenClientError('configuration_error', `refusing to send credentials to ${parsed.protocol}//${parsed.host}: use https (http is allowed on loopback only)`);
}
