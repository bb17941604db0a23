import type { ClientSecretRecord } from '../storage/types.js';
import { notFound, validationFailed } from '../errors/admin-error.js';
import { generateClientSecret, hashClientSecret, secretHint } from '../secrets/client-secret.js';
import { generateRecordId } from '../secrets/identifiers.js';
import { asAdminErrors, requireClient, type AdminContext } from './admin-context.js';
import { requireCredentialChange, summarizeSecret } from './clients.js';
import type { AddedClientSecret, ClientSecretDetails } from './resources/client-secret.js';

export type { AddedClientSecret, ClientSecretDetails } from './resources/client-secret.js';
import { echo } from '../errors/echo.js';

/** Several live secrets per client, each with an optional expiry (e.g. one per deployment). */
export interface ClientSecretOperations {
  addClientSecret(clientId: string, options?: { expiresInSeconds?: number }): Promise<AddedClientSecret>;
  listClientSecrets(clientId: string): Promise<ClientSecretDetails[]>;
  /** Deletes one secret: it stops authenticating within the servers' revision check (≤ 1 s). */
  revokeClientSecret(clientId: string, secretId: string): Promise<void>;
}

/** Longest expiry a secret may be given (5 years); none at all is allowed. */
export const MAX_SECRET_LIFETIME_SECONDS = 5 * 365 * 86_400;

export function createClientSecretOperations({ deps, write }: AdminContext): ClientSecretOperations {
  const { storage, now } = deps;
  return {
    addClientSecret: (clientId, options = {}) =>
      write(async (tx, audit) => {
        await requireCredentialChange(deps, tx, await requireClient(tx, clientId));
        const { expiresInSeconds } = options;
        if (
          expiresInSeconds !== undefined &&
          (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 60 || expiresInSeconds > MAX_SECRET_LIFETIME_SECONDS)
        ) {
          throw validationFailed('expiresInSeconds', `expiry must be a whole number of seconds from 60 to ${MAX_SECRET_LIFETIME_SECONDS} (5 years)`);
        }
        const clientSecret = generateClientSecret();
        const at = now();
        const record: ClientSecretRecord = {
          id: generateRecordId('sec'),
          clientId,
          hash: hashClientSecret(deps.secretPepper, clientSecret),
          hint: secretHint(clientSecret),
          createdAt: at,
          expiresAt: expiresInSeconds === undefined ? null : at + expiresInSeconds * 1000,
        };
        await asAdminErrors(() => tx.addClientSecret(record), `Secret ${record.id} already exists`);
        await audit('client.secret_added', {
          clientId,
          secretId: record.id,
          expiresAt: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString(),
        });
        return { clientId, clientSecret, secret: { ...summarizeSecret(record), lastUsedAt: null } };
      }),

    async listClientSecrets(clientId) {
      await requireClient(storage, clientId);
      const usage = new Map((await storage.listSecretUsage(clientId)).map((use) => [use.secretId, use.lastUsedAt]));
      return (await storage.listClientSecrets(clientId)).map((secret) => ({ ...summarizeSecret(secret), lastUsedAt: usage.get(secret.id) ?? null }));
    },

    revokeClientSecret: (clientId, secretId) =>
      write(async (tx, audit) => {
        await requireClient(tx, clientId);
        if (!(await tx.deleteClientSecret(clientId, secretId))) throw notFound(`Client ${echo(clientId)} has no secret ${echo(secretId)}`);
        await audit('client.secret_revoked', { clientId, secretId });
      }),
  };
}
