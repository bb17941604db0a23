import type { SigningAlgorithm, SigningKeyRecord, Storage } from '../storage/types.js';
import { generateSigningKey } from './generate-signing-key.js';
import type { KeyRotationPolicy } from './rotation-policy.js';

export interface ScheduledRotationDeps {
  storage: Pick<Storage, 'listKeys' | 'createKey' | 'setKeyStatus' | 'tryAcquireLease'>;
  kek: Buffer;
  now: () => number;
  policy: KeyRotationPolicy;
  /** Identifies this process in the lease (host, pid, random). */
  holder: string;
}

export type RotationStep =
  | { step: 'prepublished'; alg: SigningAlgorithm; kid: string }
  | { step: 'activated'; alg: SigningAlgorithm; kid: string; previous: string[] }
  | { step: 'retired'; alg: SigningAlgorithm; kid: string };

export const ROTATION_LEASE = 'signing-key-rotation';
const LEASE_MS = 5 * 60_000;

/**
 * One pass of scheduled rotation for the published (asymmetric) keys, run by every process; the
 * storage lease makes exactly one of them act, on one host or many. For each algorithm:
 * publish the next key `prepublishMs` before the active one is due, let it sign once it has been
 * published that long, and retire keys that stopped signing more than `retainAfterMs` ago.
 * HS256 keys are per-API shared secrets handed to resource servers out of band: never automatic.
 */
export async function runScheduledRotation(deps: ScheduledRotationDeps): Promise<RotationStep[]> {
  const { policy, storage } = deps;
  if (policy.rotateEveryMs === 0) return [];
  const at = deps.now();
  if (!(await storage.tryAcquireLease(ROTATION_LEASE, deps.holder, at + LEASE_MS, at))) return [];
  const keys = (await storage.listKeys()).filter((key) => key.alg !== 'HS256');
  const steps: RotationStep[] = [];
  for (const alg of new Set(keys.map((key) => key.alg))) {
    const active = newest(keys, alg, 'active');
    if (!active) continue;
    const pending = newest(keys, alg, 'pending');
    if (!pending) {
      if (at >= active.createdAt + policy.rotateEveryMs - policy.prepublishMs) {
        const { record } = await generateSigningKey(deps.kek, alg, at);
        await storage.createKey({ ...record, status: 'pending' });
        steps.push({ step: 'prepublished', alg, kid: record.kid });
      }
    } else if (at >= pending.createdAt + policy.prepublishMs) {
      // The new key signs first, then the old ones stop: there is never a moment without a signer.
      await storage.setKeyStatus(pending.kid, 'active', at);
      const previous = keys.filter((key) => key.alg === alg && key.status === 'active');
      for (const key of previous) await storage.setKeyStatus(key.kid, 'published', at);
      steps.push({ step: 'activated', alg, kid: pending.kid, previous: previous.map((key) => key.kid) });
    }
  }
  for (const key of keys) {
    if (key.status === 'published' && key.rotatedAt !== null && at >= key.rotatedAt + policy.retainAfterMs) {
      await storage.setKeyStatus(key.kid, 'retired', at);
      steps.push({ step: 'retired', alg: key.alg, kid: key.kid });
    }
  }
  return steps;
}

function newest(keys: readonly SigningKeyRecord[], alg: SigningAlgorithm, status: SigningKeyRecord['status']) {
  return keys.filter((key) => key.alg === alg && key.status === status && key.apiIdentifier === null).at(-1);
}

/**
 * When scheduled rotation next makes a new key sign: a pending key's end of prepublication, else
 * an active key's age reaching the schedule; the soonest over the published algorithms. Null when
 * rotation is off or no published key signs. (The check runs once a minute, so it is that close.)
 */
export function nextScheduledRotation(keys: readonly SigningKeyRecord[], policy: KeyRotationPolicy): number | null {
  if (policy.rotateEveryMs === 0) return null;
  let next: number | null = null;
  for (const alg of new Set(keys.filter((key) => key.alg !== 'HS256').map((key) => key.alg))) {
    const active = newest(keys, alg, 'active');
    if (!active) continue;
    const pending = newest(keys, alg, 'pending');
    const at = pending ? pending.createdAt + policy.prepublishMs : active.createdAt + policy.rotateEveryMs;
    next = next === null ? at : Math.min(next, at);
  }
  return next;
}

/**
 * A step's audit data in the shape every admin change records (admin-context.ts changedFields): a
 * new key as `after`, a changed one as `changes: {field: {before, after}}`, the keys an activation
 * demoted as `demoted` (as `key.rotated` lists them).
 */
export function rotationStepAudit(step: RotationStep): Record<string, unknown> {
  const status = (before: string, after: string) => ({ status: { before, after } });
  switch (step.step) {
    case 'prepublished':
      return { ...step, after: { kid: step.kid, alg: step.alg, status: 'pending' } };
    case 'activated':
      return { ...step, changes: status('pending', 'active'), demoted: step.previous.map((kid) => ({ kid, changes: status('active', 'published') })) };
    case 'retired':
      return { ...step, changes: status('published', 'retired') };
  }
}
