import { withoutTrailingSlashes } from './https-origin.js';

/**
 * An issuer's metadata document: RFC 8414 first, then OpenID Connect Discovery, and only a
 * document that names the issuer asked about (RFC 8414 §3.3) — else it is someone else's. Each
 * SDK reads the members it needs from it.
 */
export async function fetchIssuerMetadata(issuer: string, fetchImpl: typeof fetch, timeoutMs: number): Promise<Readonly<Record<string, unknown>>> {
  const base = withoutTrailingSlashes(issuer);
  const failures: string[] = [];
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    try {
      const response = await fetchImpl(`${base}${path}`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) {
        failures.push(`${path}: ${response.status}`);
        continue;
      }
      const metadata: unknown = await response.json();
      if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) throw new Error('metadata is not a JSON object');
      const named = (metadata as Record<string, unknown>).issuer;
      if (named !== issuer && named !== base) throw new Error(`metadata names issuer ${String(named).slice(0, 200)}`);
      return metadata as Record<string, unknown>;
    } catch (error) {
      failures.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`discovery failed for ${issuer} (${failures.join('; ')})`);
}
