import type { ClientSecretRecord, Storage } from '../storage/types.js';
import { notFound, validationFailed } from '../errors/admin-error.js';
import { generateClientSecret, hashClientSecret, secretHint } from '../secrets/client-secret.js';
import { generateRecordId } from '../secrets/identifiers.js';

export interface ClientSecretsDeps {
  storage: Pick<Storage, 'getClient' | 'addClientSecret' | 'listClientSecrets' | 'deleteClientSecret' | 'listSecretUsage'>;
  secretPepper: Buffer;
  now: () => number;
  changed: (type: string, data: Record<string, unknown>) => Promise<void>;
}

/** A secret as operators see it: never the secret or its hash. */
export interface ClientSecretDetails {
  id: string;
  hint: string;
  createdAt: number;
  expiresAt: number | null;
  /** Last successful authentication, recorded in batches (up to ~30 s late); null = never seen. */
  lastUsedAt: number | null;
}

/** Longest expiry a secret may be given (5 years); none at all is allowed. */
export const MAX_SECRET_LIFETIME_SECONDS = 5 * 365 * 86_400;

async function requireClient(deps: ClientSecretsDeps, clientId: string) {
  if (!(await deps.storage.getClient(clientId))) throw notFound(`No client with id ${clientId}`);
}

/** Adds one more secret (a client may hold several, e.g. one per deployment); the raw secret is returned once. */
export async function addClientSecret(deps: ClientSecretsDeps, clientId: string, options: { expiresInSeconds?: number } = {}) {
  await requireClient(deps, clientId);
  const { expiresInSeconds } = options;
  if (expiresInSeconds !== undefined && (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 60 || expiresInSeconds > MAX_SECRET_LIFETIME_SECONDS)) {
    throw validationFailed('expiresInSeconds', `expiry must be a whole number of seconds from 60 to ${MAX_SECRET_LIFETIME_SECONDS} (5 years)`);
  }
  const clientSecret = generateClientSecret();
  const at = deps.now();
  const record: ClientSecretRecord = {
    id: generateRecordId('sec'),
    clientId,
    hash: hashClientSecret(deps.secretPepper, clientSecret),
    hint: secretHint(clientSecret),
    createdAt: at,
    expiresAt: expiresInSeconds === undefined ? null : at + expiresInSeconds * 1000,
  };
  await deps.storage.addClientSecret(record);
  await deps.changed('client.secret_added', { clientId, secretId: record.id, expiresAt: record.expiresAt });
  return { clientSecret, secret: { ...summarize(record), lastUsedAt: null } satisfies ClientSecretDetails };
}

export async function listClientSecrets(deps: ClientSecretsDeps, clientId: string): Promise<ClientSecretDetails[]> {
  await requireClient(deps, clientId);
  const usage = new Map((await deps.storage.listSecretUsage(clientId)).map((use) => [use.secretId, use.lastUsedAt]));
  return (await deps.storage.listClientSecrets(clientId)).map((secret) => ({ ...summarize(secret), lastUsedAt: usage.get(secret.id) ?? null }));
}

/** Deletes one secret at once: it stops authenticating within the server's revision check (≤ 1 s). */
export async function revokeClientSecret(deps: ClientSecretsDeps, clientId: string, secretId: string) {
  await requireClient(deps, clientId);
  if (!(await deps.storage.deleteClientSecret(clientId, secretId))) throw notFound(`Client ${clientId} has no secret ${secretId}`);
  await deps.changed('client.secret_revoked', { clientId, secretId });
}

function summarize(secret: ClientSecretRecord) {
  return { id: secret.id, hint: secret.hint, createdAt: secret.createdAt, expiresAt: secret.expiresAt };
}
