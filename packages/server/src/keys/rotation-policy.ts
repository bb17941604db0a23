import { MAX_TOKEN_TTL_SECONDS } from '../protocol/limits.js';

/**
 * When signing keys change, so that no verifier ever meets a token whose key it cannot find:
 * - the next key is published `prepublishMs` before it signs, at least one JWKS cache lifetime, so
 *   every resource server has it in cache when the first token it signs arrives;
 * - a key that stopped signing stays published `retainAfterMs`, at least the longest token
 *   lifetime plus clock skew, so every token it signed expires before it disappears.
 */
export interface KeyRotationPolicy {
  /** A key signs for about this long; 0 turns scheduled rotation off. */
  rotateEveryMs: number;
  prepublishMs: number;
  retainAfterMs: number;
}

/** Clock skew allowed between this server and verifiers when deciding a key may go. */
export const KEY_CLOCK_SKEW_SECONDS = 60;
const DAY_MS = 86_400_000;

export const DEFAULT_KEY_ROTATION_POLICY: KeyRotationPolicy = {
  rotateEveryMs: 90 * DAY_MS,
  prepublishMs: 3_600_000,
  retainAfterMs: (MAX_TOKEN_TTL_SECONDS + KEY_CLOCK_SKEW_SECONDS) * 1000,
};

/** Problems with a policy, in operator's words (empty when it is safe). */
export function keyRotationPolicyProblems(policy: KeyRotationPolicy, jwksMaxAgeSeconds: number): string[] {
  const problems: string[] = [];
  if (policy.rotateEveryMs === 0) return problems;
  if (policy.prepublishMs < jwksMaxAgeSeconds * 1000) {
    problems.push(
      `the next key must be published at least one JWKS cache lifetime (${jwksMaxAgeSeconds} s) before it signs (prepublish: ${policy.prepublishMs / 1000} s)`,
    );
  }
  const minimumRetention = MAX_TOKEN_TTL_SECONDS + KEY_CLOCK_SKEW_SECONDS;
  if (policy.retainAfterMs < minimumRetention * 1000) {
    problems.push(
      `a key must stay published at least the longest token lifetime plus clock skew (${minimumRetention} s) after it stops signing (retention: ${policy.retainAfterMs / 1000} s)`,
    );
  }
  if (policy.rotateEveryMs < DAY_MS || policy.rotateEveryMs <= policy.prepublishMs) {
    problems.push(`keys must sign for at least a day and longer than the prepublish time (rotation every ${policy.rotateEveryMs / DAY_MS} days)`);
  }
  return problems;
}
