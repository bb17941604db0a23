import type { ClientPatch, ClientRecord } from './types.js';

/**
 * A client after a patch, as every adapter reads it back: `undefined` leaves a field as it is,
 * `null` (or nothing: an empty subject, no DNS names) removes an optional one, and a flag that is
 * false is left out. The adapters that merge in memory (memory, SQLite) share it, so a record
 * reads the same from each.
 */
export function patchedClient(client: ClientRecord, patch: ClientPatch, now: number): ClientRecord {
  const { quota, tlsClientAuthSubjectDn, tlsClientAuthSanDns, ...rest } = patch;
  const updated: ClientRecord = { ...client, ...definedOnly(rest), updatedAt: now };
  if (quota === null) delete updated.quota;
  else if (quota !== undefined) updated.quota = quota;
  if (tlsClientAuthSubjectDn !== undefined) {
    if (tlsClientAuthSubjectDn) updated.tlsClientAuthSubjectDn = tlsClientAuthSubjectDn;
    else delete updated.tlsClientAuthSubjectDn;
  }
  if (tlsClientAuthSanDns !== undefined) {
    if (tlsClientAuthSanDns?.length) updated.tlsClientAuthSanDns = tlsClientAuthSanDns;
    else delete updated.tlsClientAuthSanDns;
  }
  // The contract reads "may introspect nothing" as absent, not [] (as the SQL adapters store it).
  if (updated.introspectApis?.length === 0) delete updated.introspectApis;
  if (!updated.dpopBoundAccessTokens) delete updated.dpopBoundAccessTokens;
  if (!updated.tlsClientCertificateBoundAccessTokens) delete updated.tlsClientCertificateBoundAccessTokens;
  return updated;
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as Partial<T>;
}
