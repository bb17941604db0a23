/** What the SDK reads from an issuer's metadata. */
export interface IssuerMetadata {
  readonly jwksUri: string | undefined;
  readonly introspectionEndpoint: string | undefined;
}

/**
 * An issuer's metadata: RFC 8414 first, then OpenID Connect Discovery, and only a document that
 * names the issuer asked about (RFC 8414 §3.3). Fetched once per issuer and shared by the JWKS
 * cache and introspection; a failure is not remembered, so the next call retries.
 */
export function createMetadataResolver(issuer: string, fetchImpl: typeof fetch, timeoutMs: number): () => Promise<IssuerMetadata> {
  let resolved: Promise<IssuerMetadata> | undefined;
  return () => {
    resolved ??= discover(issuer, fetchImpl, timeoutMs).catch((error: unknown) => {
      resolved = undefined;
      throw error;
    });
    return resolved;
  };
}

/** One member of the metadata, or an error naming what the issuer does not advertise. */
export function metadataMember(metadata: () => Promise<IssuerMetadata>, issuer: string, member: 'jwks_uri' | 'introspection_endpoint'): () => Promise<string> {
  return async () => {
    const found = await metadata();
    const value = member === 'jwks_uri' ? found.jwksUri : found.introspectionEndpoint;
    if (value === undefined) throw new Error(`${issuer} advertises no ${member}`);
    return value;
  };
}

async function discover(issuer: string, fetchImpl: typeof fetch, timeoutMs: number): Promise<IssuerMetadata> {
  const base = issuer.replace(/\/+$/, '');
  const failures: string[] = [];
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    try {
      const response = await fetchImpl(`${base}${path}`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) {
        failures.push(`${path}: ${response.status}`);
        continue;
      }
      const metadata = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown; introspection_endpoint?: unknown };
      if (metadata.issuer !== issuer && metadata.issuer !== base) throw new Error(`metadata names issuer ${String(metadata.issuer)}`);
      return {
        jwksUri: typeof metadata.jwks_uri === 'string' ? metadata.jwks_uri : undefined,
        introspectionEndpoint: typeof metadata.introspection_endpoint === 'string' ? metadata.introspection_endpoint : undefined,
      };
    } catch (error) {
      failures.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`discovery failed for ${issuer} (${failures.join('; ')})`);
}
