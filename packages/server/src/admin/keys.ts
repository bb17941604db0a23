import type { RegistryStores, SigningAlgorithm, SigningKeyRecord } from '../storage/types.js';
import { notFound, validationFailed } from '../errors/admin-error.js';
import { ensureSigningKey, rotateSigningKey } from '../keys/key-rotation.js';
import { changedFields, requireApi, type AdminContext } from './admin-context.js';
import { validateSigningAlg } from './validation.js';
import { echo } from '../errors/echo.js';

import { signingKeyResource, type SigningKeySummary } from './resources/signing-key.js';

export type { SigningKeySummary } from './resources/signing-key.js';

export interface RotatedKey {
  key: SigningKeySummary;
  previous: SigningKeySummary[];
  sharedSecret?: string;
}

export interface KeyOperations {
  listKeys(): Promise<SigningKeySummary[]>;
  getKey(kid: string): Promise<SigningKeySummary>;
  /** Ensures the default RS256 key and a key for every algorithm an API uses (first start). */
  ensureSigningKeys(): Promise<SigningKeySummary[]>;
  rotateSigningKey(alg?: SigningAlgorithm, apiIdentifier?: string): Promise<RotatedKey>;
  // retireSigningKey and revokeSigningKey: signing-key-lifecycle.ts (the rules about live tokens).
}

export function createKeyOperations({ deps, write }: AdminContext): KeyOperations {
  const { storage, now } = deps;
  const keyDeps = (keys: Parameters<typeof ensureSigningKey>[0]['keys']) => ({ keys, kek: deps.kek, now });

  return {
    listKeys: async () => (await storage.listKeys()).map(summarizeKey),

    async getKey(kid) {
      const key = await storage.getKey(kid);
      if (!key) throw notFound(`No signing key ${echo(kid)}`);
      return summarizeKey(key);
    },

    async ensureSigningKeys() {
      // Read first, outside a transaction: on every start but the first there is nothing to do.
      const wanted = new Map<string, SigningAlgorithm>([['RS256', 'RS256']]);
      for (const api of await storage.listApis()) if (api.signingAlg !== 'HS256') wanted.set(api.signingAlg, api.signingAlg);
      const keys = await storage.listKeys();
      const missing = [...wanted.values()].filter((alg) => !keys.some((key) => key.status === 'active' && key.alg === alg && key.apiIdentifier === null));
      if (missing.length === 0) return [];
      return write(async (tx, audit) => {
        const created: SigningKeySummary[] = [];
        for (const alg of missing) {
          const result = await ensureSigningKey(keyDeps(tx), alg, null);
          if (result.created) created.push(summarizeKey(result.created));
        }
        if (created.length > 0) await audit('key.created', { kids: created.map((key) => key.kid) });
        return created;
      });
    },

    rotateSigningKey: (alg = 'RS256', apiIdentifier) =>
      write(async (tx, audit) => {
        const algorithm = validateSigningAlg(alg);
        if (algorithm === 'HS256') {
          if (!apiIdentifier) throw validationFailed('api', 'rotating an HS256 key needs the API it belongs to');
          if ((await requireApi(tx, apiIdentifier)).signingAlg !== 'HS256') throw validationFailed('api', `${apiIdentifier} does not use HS256`);
        }
        const { created, demoted, sharedSecret } = await rotateSigningKey(keyDeps(tx), algorithm, algorithm === 'HS256' ? apiIdentifier! : null);
        await audit('key.rotated', {
          alg: algorithm,
          kid: created.kid,
          previous: demoted.map((key) => key.kid),
          after: signingKeyResource.toWire(summarizeKey(created)),
          demoted: await Promise.all(demoted.map((key) => keyChanges(tx, key))),
        });
        return { key: summarizeKey(created), previous: demoted.map(summarizeKey), ...(sharedSecret ? { sharedSecret } : {}) };
      }),
  };
}

/** A key's change as every update's audit event records it: `changes: {field: {before, after}}` (changedFields). */
export async function keyChanges(tx: Pick<RegistryStores, 'getKey'>, before: SigningKeyRecord) {
  const after = (await tx.getKey(before.kid))!;
  return { kid: before.kid, changes: changedFields(signingKeyResource.toWire(summarizeKey(before)), signingKeyResource.toWire(summarizeKey(after))) };
}

export function summarizeKey(key: SigningKeyRecord): SigningKeySummary {
  return { kid: key.kid, alg: key.alg, status: key.status, apiIdentifier: key.apiIdentifier, createdAt: key.createdAt, rotatedAt: key.rotatedAt };
}
