import { fetchIssuerMetadata, memoizeSuccess } from '@m2m-auth/sdk-core';

/** What the SDK reads from an issuer's metadata. */
export interface IssuerMetadata {
  readonly jwksUri: string | undefined;
  readonly introspectionEndpoint: string | undefined;
}

/**
 * An issuer's metadata (see fetchIssuerMetadata), fetched once per issuer and shared by the JWKS
 * cache and introspection; a failure is not remembered, so the next call retries.
 */
export function createMetadataResolver(issuer: string, fetchImpl: typeof fetch, timeoutMs: number): () => Promise<IssuerMetadata> {
  return memoizeSuccess(() => discover(issuer, fetchImpl, timeoutMs));
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
  const metadata = await fetchIssuerMetadata(issuer, fetchImpl, timeoutMs);
  return {
    jwksUri: typeof metadata.jwks_uri === 'string' ? metadata.jwks_uri : undefined,
    introspectionEndpoint: typeof metadata.introspection_endpoint === 'string' ? metadata.introspection_endpoint : undefined,
  };
}
