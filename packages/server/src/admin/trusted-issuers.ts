import { createHash } from 'node:crypto';
import type { RegistryStores, TrustedIssuerRecord } from '../storage/types.js';
import { AdminError } from '../errors/admin-error.js';
import { subjectRuleProblem } from '../federation/federation-rules.js';
import { trustedIssuerResource } from './resources/trusted-issuer.js';
import { pageOf, type ListOptions, type Page } from './paging.js';
import { asAdminErrors, changedFields, requireTrustedIssuer, type AdminContext, type RecordAudit } from './admin-context.js';
import { clientsNeeds, requireCallerScopes, widensIssuerTrust } from './admin-authority.js';
import { changedIssuerSettings, trustedIssuerSettings } from './federation-validation.js';
import { inMemberOrder } from './validation.js';
import { credentialAudit } from './federated-credentials.js';

import type { AddTrustedIssuerInput, UpdateTrustedIssuerInput } from './resources/trusted-issuer.js';

export type { AddTrustedIssuerInput, UpdateTrustedIssuerInput } from './resources/trusted-issuer.js';

/** Platforms whose tokens clients may present instead of a secret (workload identity federation). */
export interface TrustedIssuerOperations {
  addTrustedIssuer(input: AddTrustedIssuerInput): Promise<TrustedIssuerRecord>;
  listTrustedIssuers(options?: ListOptions): Promise<Page<TrustedIssuerRecord>>;
  getTrustedIssuer(issuer: string): Promise<TrustedIssuerRecord>;
  updateTrustedIssuer(issuer: string, patch: UpdateTrustedIssuerInput): Promise<TrustedIssuerRecord>;
  /**
   * Removes the issuer. Refused (409) while federated credentials or exchange policies name it,
   * unless `force`: then they are removed with it, atomically, audited.
   */
  removeTrustedIssuer(issuer: string, options?: { force?: boolean }): Promise<void>;
}

/** The writes behind the operations, each with its audit event, for a caller that holds a transaction (apply). */
export interface TrustedIssuerWrites {
  addTrustedIssuer(tx: RegistryStores, audit: RecordAudit, input: AddTrustedIssuerInput): Promise<TrustedIssuerRecord>;
  updateTrustedIssuer(tx: RegistryStores, audit: RecordAudit, issuer: string, patch: UpdateTrustedIssuerInput): Promise<TrustedIssuerRecord>;
  removeTrustedIssuer(tx: RegistryStores, audit: RecordAudit, issuer: string, options?: { force?: boolean }): Promise<void>;
}

export function createTrustedIssuerWrites({ deps }: AdminContext): TrustedIssuerWrites {
  const { now } = deps;
  return {
    async addTrustedIssuer(tx, audit, input) {
      const settings = trustedIssuerSettings(input);
      const at = now();
      const record: TrustedIssuerRecord = { ...settings, createdAt: at, updatedAt: at };
      await asAdminErrors(() => tx.createTrustedIssuer(record), `Trusted issuer ${record.issuer} already exists`);
      await audit('trusted_issuer.added', { issuer: record.issuer, after: auditView(record) });
      return record;
    },

    async updateTrustedIssuer(tx, audit, issuer, patch) {
      const before = await requireTrustedIssuer(tx, issuer);
      const after = changedIssuerSettings(before, patch);
      const credentials = await tx.listFederatedCredentials({ issuer });
      if (deps.caller && widensIssuerTrust(before, after)) {
        requireCallerScopes(
          deps.caller,
          await clientsNeeds(
            tx,
            credentials.map((credential) => credential.clientId),
          ),
          `Changing the keys or checks of trusted issuer ${issuer}, which clients holding admin scopes trust,`,
        );
      }
      // Marking an issuer shared makes bare subject prefixes on it unsafe: the credentials must follow first.
      const unsafe = credentials.filter((credential) => subjectRuleProblem(credential, after) !== undefined);
      if (unsafe.length > 0) {
        throw new AdminError(
          'conflict',
          `Trusted issuer ${issuer} would be shared, and ${unsafe.length} federated credential(s) of it are subject prefixes without a claim condition (${unsafe
            .slice(0, 5)
            .map((credential) => `${credential.id} of client ${credential.clientId}`)
            .join(', ')}): replace them first`,
        );
      }
      const { jwksUri, jwks, tokenReuse, maxTokenLifetimeSeconds, isShared } = after;
      const record = (await tx.updateTrustedIssuer(issuer, { jwksUri, jwks, tokenReuse, maxTokenLifetimeSeconds, isShared }, now()))!;
      await audit('trusted_issuer.updated', { issuer, changes: changedFields(auditView(before), auditView(record)) });
      return record;
    },

    async removeTrustedIssuer(tx, audit, issuer, options = {}) {
      const before = await requireTrustedIssuer(tx, issuer);
      const credentials = await tx.listFederatedCredentials({ issuer });
      const policies = (await tx.listExchangePolicies()).filter((policy) => policy.subjectIssuer === issuer);
      if ((credentials.length > 0 || policies.length > 0) && !options.force) {
        const clients = [...new Set(credentials.map((credential) => credential.clientId))];
        const users = [
          ...(credentials.length > 0
            ? [
                `${credentials.length} federated credential(s) of ${clients.length} client(s) (${clients.slice(0, 5).join(', ')}${clients.length > 5 ? ', …' : ''})`,
              ]
            : []),
          ...(policies.length > 0
            ? [
                `${policies.length} exchange policy(ies) (${policies
                  .slice(0, 5)
                  .map((policy) => policy.id)
                  .join(', ')}${policies.length > 5 ? ', …' : ''})`,
              ]
            : []),
        ];
        throw new AdminError(
          'conflict',
          `Trusted issuer ${before.issuer} is named by ${users.join(' and ')}: remove them first, or force the removal (--force, ?force=true) to remove them with it`,
          undefined,
          { federated_credentials: credentials.length, ...(policies.length > 0 ? { exchange_policies: policies.length } : {}) },
        );
      }
      if (deps.caller) {
        requireCallerScopes(
          deps.caller,
          await clientsNeeds(
            tx,
            credentials.map((credential) => credential.clientId),
          ),
          `Removing trusted issuer ${issuer} with the federated credentials of clients holding admin scopes`,
        );
      }
      await tx.deleteTrustedIssuer(issuer);
      for (const credential of credentials)
        await audit('client.federated_credential_removed', { ...credentialAudit(credential), cause: 'trusted_issuer.removed' });
      await audit('trusted_issuer.removed', {
        issuer,
        before: auditView(before),
        removedFederatedCredentials: credentials.map((credential) => credential.id),
        ...(policies.length > 0 ? { removedExchangePolicies: policies.map((policy) => policy.id) } : {}),
      });
    },
  };
}

export function createTrustedIssuerOperations({ deps, write }: AdminContext, writes: TrustedIssuerWrites): TrustedIssuerOperations {
  const { storage } = deps;
  return {
    addTrustedIssuer: (input) => write((tx, audit) => writes.addTrustedIssuer(tx, audit, input)),
    listTrustedIssuers: (options = {}) =>
      pageOf(
        options,
        (issuer) => issuer.issuer,
        (page) => storage.listTrustedIssuers(page),
      ),
    getTrustedIssuer: (issuer) => requireTrustedIssuer(storage, issuer),
    updateTrustedIssuer: (issuer, patch) => write((tx, audit) => writes.updateTrustedIssuer(tx, audit, issuer, patch)),
    removeTrustedIssuer: (issuer, options) => write((tx, audit) => writes.removeTrustedIssuer(tx, audit, issuer, options)),
  };
}

/**
 * An issuer in the audit log: its wire shape, with inline keys summed up (a bundle of 100 keys
 * would make every event huge) by their count, kids and a digest, so a key change still shows.
 */
export function auditView(record: TrustedIssuerRecord): Record<string, unknown> {
  const wire = trustedIssuerResource.toWire(record);
  if (!record.jwks) return wire;
  const digest = createHash('sha256')
    .update(JSON.stringify(inMemberOrder(record.jwks)))
    .digest('base64url');
  return { ...wire, jwks: { key_count: record.jwks.keys.length, kids: record.jwks.keys.map((key) => key.kid ?? null), sha256: digest } };
}
