import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import type { SigningAlgorithm, SigningKeyRecord } from '../storage/types.js';
import { createJwsSigner, type JwsSigner, type SignOn } from '../tokens/jws-signer.js';
import { decryptPrivateKey } from './key-encryption.js';

/**
 * The keys a running server signs and verifies with, imported once. Rebuilt when storage
 * changes; signers for unchanged kids are carried over, so a rebuild costs only the new keys.
 */
export interface KeyRing {
  /** The active signer for an algorithm; HS256 signers are per API. */
  signerFor(alg: SigningAlgorithm, apiIdentifier: string): JwsSigner | undefined;
  /** Key to verify one of our own tokens (active or published keys only). */
  verificationKey(kid: string): { alg: SigningAlgorithm; key: KeyObject; apiIdentifier: string | null } | undefined;
  /** The JWKS document, rendered once per rebuild. */
  readonly jwksJson: string;
  readonly records: readonly SigningKeyRecord[];
}

interface ImportedKey {
  record: SigningKeyRecord;
  signer: JwsSigner;
  verifyKey: KeyObject;
}

export function buildKeyRing(records: readonly SigningKeyRecord[], kek: Buffer, previous: KeyRing | undefined, signOn: SignOn): KeyRing {
  const carried = previous instanceof ImportedKeyRing ? previous.imported : new Map<string, ImportedKey>();
  const imported = new Map<string, ImportedKey>();
  for (const record of records) {
    if (record.status === 'retired') continue;
    const reused = carried.get(record.kid);
    imported.set(record.kid, reused ? { ...reused, record } : importKey(record, kek, signOn));
  }
  return new ImportedKeyRing(imported);
}

function importKey(record: SigningKeyRecord, kek: Buffer, signOn: SignOn): ImportedKey {
  const material = decryptPrivateKey(kek, record.kid, record.encryptedPrivateKey);
  const verifyKey = record.alg === 'HS256' ? createSecretKey(Buffer.from(material, 'base64url')) : createPublicKey(material);
  return { record, signer: createJwsSigner(record.kid, record.alg, material, signOn), verifyKey };
}

class ImportedKeyRing implements KeyRing {
  readonly jwksJson: string;
  readonly records: readonly SigningKeyRecord[];
  private readonly activeSigners = new Map<string, JwsSigner>();

  constructor(readonly imported: Map<string, ImportedKey>) {
    const keys: Record<string, unknown>[] = [];
    for (const { record, signer } of imported.values()) {
      if (record.publicJwk) keys.push(record.publicJwk);
      if (record.status === 'active') {
        const slot = signerSlot(record.alg, record.apiIdentifier);
        const current = this.activeSigners.get(slot);
        // Two actives can briefly coexist when two processes rotate at once: the newest wins.
        if (!current || (imported.get(current.kid)?.record.createdAt ?? 0) <= record.createdAt) {
          this.activeSigners.set(slot, signer);
        }
      }
    }
    this.jwksJson = JSON.stringify({ keys });
    this.records = [...imported.values()].map((entry) => entry.record);
  }

  signerFor(alg: SigningAlgorithm, apiIdentifier: string): JwsSigner | undefined {
    return this.activeSigners.get(signerSlot(alg, alg === 'HS256' ? apiIdentifier : null));
  }

  verificationKey(kid: string) {
    const entry = this.imported.get(kid);
    return entry && { alg: entry.record.alg, key: entry.verifyKey, apiIdentifier: entry.record.apiIdentifier };
  }
}

const signerSlot = (alg: SigningAlgorithm, apiIdentifier: string | null) => (apiIdentifier ? `${alg} ${apiIdentifier}` : alg);
