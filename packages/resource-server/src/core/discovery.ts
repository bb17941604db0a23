/**
 * The JWKS location of an issuer, from its metadata: RFC 8414 first, then OpenID Connect
 * Discovery. Resolved once per issuer; a failure is not remembered, so the next call retries.
 */
export function createJwksUriResolver(issuer: string, fetchImpl: typeof fetch, timeoutMs: number): () => Promise<string> {
  let resolved: Promise<string> | undefined;
  return () => {
    resolved ??= discover(issuer, fetchImpl, timeoutMs).catch((error: unknown) => {
      resolved = undefined;
      throw error;
    });
    return resolved;
  };
}

async function discover(issuer: string, fetchImpl: typeof fetch, timeoutMs: number): Promise<string> {
  const base = issuer.replace(/\/+$/, '');
  const failures: string[] = [];
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    try {
      const response = await fetchImpl(`${base}${path}`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) {
        failures.push(`${path}: ${response.status}`);
        continue;
      }
      const metadata = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
      // RFC 8414 §3.3: the metadata must name the issuer we asked about, or it is not its metadata.
      if (metadata.issuer !== issuer && metadata.issuer !== base) throw new Error(`metadata names issuer ${String(metadata.issuer)}`);
      if (typeof metadata.jwks_uri !== 'string') throw new Error('metadata has no jwks_uri');
      return metadata.jwks_uri;
    } catch (error) {
      failures.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`discovery failed for ${issuer} (${failures.join('; ')})`);
}
