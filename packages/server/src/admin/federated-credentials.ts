import type { FederatedCredentialRecord, RegistryStores } from '../storage/types.js';
import { AdminError, notFound, validationFailed } from '../errors/admin-error.js';
import { echo } from '../errors/echo.js';
import { generateRecordId } from '../secrets/identifiers.js';
import { MAX_FEDERATED_CREDENTIALS_PER_CLIENT } from '../federation/federation-rules.js';
import { asAdminErrors, requireClient, type AdminContext, type RecordAudit } from './admin-context.js';
import { requireCredentialChange } from './clients.js';
import { federatedCredentialRule, MAX_ISSUER_CHARS } from './federation-validation.js';

import type { AddFederatedCredentialInput } from './resources/federated-credential.js';

export type { AddFederatedCredentialInput } from './resources/federated-credential.js';

/**
 * A client's federated credentials: rules under which a platform token (a Kubernetes service
 * account's, a CI job's, a JWT-SVID) authenticates as the client instead of a secret. Each is a
 * credential of the client: adding or removing one needs what acting as the client is worth.
 */
export interface FederatedCredentialOperations {
  addFederatedCredential(clientId: string, input: AddFederatedCredentialInput): Promise<FederatedCredentialRecord>;
  /** Oldest first; a client has at most MAX_FEDERATED_CREDENTIALS_PER_CLIENT. */
  listFederatedCredentials(clientId: string): Promise<FederatedCredentialRecord[]>;
  /** Tokens matching it stop authenticating within the servers' revision check (≤ 1 s). */
  removeFederatedCredential(clientId: string, credentialId: string): Promise<void>;
}

/** The writes behind the operations, each with its audit event, for a caller that holds a transaction (apply). */
export interface FederatedCredentialWrites {
  addFederatedCredential(tx: RegistryStores, audit: RecordAudit, clientId: string, input: AddFederatedCredentialInput): Promise<FederatedCredentialRecord>;
  removeFederatedCredential(tx: RegistryStores, audit: RecordAudit, clientId: string, credentialId: string): Promise<void>;
}

export function createFederatedCredentialWrites({ deps }: AdminContext): FederatedCredentialWrites {
  const { now } = deps;
  return {
    async addFederatedCredential(tx, audit, clientId, input) {
      await requireCredentialChange(deps, tx, await requireClient(tx, clientId));
      if (typeof input.issuer !== 'string' || input.issuer.length > MAX_ISSUER_CHARS) {
        throw validationFailed('issuer', `issuer must be the issuer of a trusted issuer, at most ${MAX_ISSUER_CHARS} characters`);
      }
      const issuer = await tx.getTrustedIssuer(input.issuer);
      if (!issuer) throw notFound(`No trusted issuer ${echo(input.issuer)}: add it first (m2m-auth issuers add --issuer …)`);
      const rule = federatedCredentialRule(input, issuer);
      const existing = await tx.listFederatedCredentials({ clientId });
      if (existing.length >= MAX_FEDERATED_CREDENTIALS_PER_CLIENT) {
        throw new AdminError(
          'conflict',
          `Client ${clientId} already has ${existing.length} federated credentials, the most a client may have (${MAX_FEDERATED_CREDENTIALS_PER_CLIENT}): remove one first`,
        );
      }
      const record: FederatedCredentialRecord = { id: generateRecordId('fed'), clientId, ...rule, createdAt: now() };
      await asAdminErrors(
        () => tx.addFederatedCredential(record),
        `Client ${clientId} already has a federated credential for ${rule.issuer} with ${rule.subjectMatch === 'prefix' ? 'subject prefix' : 'subject'} ${JSON.stringify(echo(rule.subject))}`,
      );
      await audit('client.federated_credential_added', credentialAudit(record));
      return record;
    },

    async removeFederatedCredential(tx, audit, clientId, credentialId) {
      await requireCredentialChange(deps, tx, await requireClient(tx, clientId));
      const credential = (await tx.listFederatedCredentials({ clientId })).find((candidate) => candidate.id === credentialId);
      if (!credential || !(await tx.deleteFederatedCredential(clientId, credentialId))) {
        throw notFound(`Client ${clientId} has no federated credential ${echo(credentialId)}`);
      }
      await audit('client.federated_credential_removed', credentialAudit(credential));
    },
  };
}

export function createFederatedCredentialOperations({ deps, write }: AdminContext, writes: FederatedCredentialWrites): FederatedCredentialOperations {
  const { storage } = deps;
  return {
    addFederatedCredential: (clientId, input) => write((tx, audit) => writes.addFederatedCredential(tx, audit, clientId, input)),
    async listFederatedCredentials(clientId) {
      await requireClient(storage, clientId);
      return storage.listFederatedCredentials({ clientId });
    },
    removeFederatedCredential: (clientId, credentialId) => write((tx, audit) => writes.removeFederatedCredential(tx, audit, clientId, credentialId)),
  };
}

/** What the audit log says of a credential: the rule, never a token. */
export function credentialAudit(credential: FederatedCredentialRecord): Record<string, unknown> {
  return {
    clientId: credential.clientId,
    credentialId: credential.id,
    issuer: credential.issuer,
    subject: credential.subject,
    subjectMatch: credential.subjectMatch,
    audiences: credential.audiences,
    claims: credential.claims,
  };
}
