import type { FederatedCredentialRecord, Storage, TrustedIssuerKind, TrustedIssuerRecord } from '../../src/storage/types.js';
import { issuerDefaults } from '../../src/federation/federation-rules.js';

let serial = 0;

/** Trusts `issuer` as the admin operations would (the kind's defaults), straight in storage. */
export async function trustIssuer(storage: Storage, at: number, issuer: string, kind: TrustedIssuerKind = 'oidc', fields: Partial<TrustedIssuerRecord> = {}) {
  await storage.createTrustedIssuer({ issuer, kind, jwksUri: null, jwks: null, ...issuerDefaults(issuer, kind), createdAt: at, updatedAt: at, ...fields });
}

/** A federated credential (exact subject, this server's audience, no claim conditions unless given), straight in storage. */
export async function addFederatedCredential(
  storage: Storage,
  at: number,
  fields: Pick<FederatedCredentialRecord, 'clientId' | 'issuer' | 'subject'> & Partial<FederatedCredentialRecord>,
): Promise<FederatedCredentialRecord> {
  const record: FederatedCredentialRecord = {
    id: `fed_test${(serial += 1)}`,
    subjectMatch: 'exact',
    audiences: [],
    claims: {},
    description: '',
    createdAt: at,
    ...fields,
  };
  await storage.addFederatedCredential(record);
  return record;
}
