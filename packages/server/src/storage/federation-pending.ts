import type { FederationStore } from './types.js';

/** Temporary: the SQL adapters' federation tables are being written; every call refuses. */
export function federationPending(): FederationStore {
  const pending = async (): Promise<never> => {
    throw new Error('federation storage is not implemented on this adapter yet');
  };
  return {
    createTrustedIssuer: pending,
    getTrustedIssuer: pending,
    listTrustedIssuers: pending,
    updateTrustedIssuer: pending,
    deleteTrustedIssuer: pending,
    addFederatedCredential: pending,
    listFederatedCredentials: pending,
    findFederatedCredentials: pending,
    deleteFederatedCredential: pending,
  };
}
