import { isAuthError } from '../errors.js';
import type { EmitEvent } from '../events.js';
import type { Principal } from '../principal.js';
import { rememberRealm } from './realm.js';
import type { VerifyToken } from './verify-token.js';

/** Reports a rejection (`token.rejected`) and rethrows it; `token` is undefined when none was found. */
export type ReportRejection = (error: unknown, token: string | undefined) => never;

export function createRejectionReporter(emit: EmitEvent): ReportRejection {
  return (error, token) => {
    if (isAuthError(error)) {
      const claims = token ? peekClaims(token) : undefined;
      emit({ type: 'token.rejected', reason: error.reason, code: error.code, issuer: claims?.iss, clientId: claims?.clientId });
    }
    throw error;
  };
}

/**
 * Wraps the pipeline so each outcome is reported once: a rejection (thrown or rejected) as
 * `token.rejected`, an acceptance as `token.accepted`, with the principal tagged with this
 * verifier's realm. Stays synchronous when the pipeline is.
 */
export function withOutcomeEvents(verify: VerifyToken, emit: EmitEvent, realm: string, report: ReportRejection): VerifyToken {
  const accepted = (principal: Principal): Principal => {
    rememberRealm(principal, realm);
    emit({ type: 'token.accepted', issuer: principal.issuer, clientId: principal.clientId, cached: false });
    return principal;
  };
  return (token) => {
    let result: Principal | Promise<Principal>;
    try {
      result = verify(token);
    } catch (error) {
      return report(error, token);
    }
    if (result instanceof Promise) return result.then(accepted, (error: unknown) => report(error, token));
    return accepted(result);
  };
}

/** Issuer and client of a rejected token, for the rejection event — parsed, never trusted. */
function peekClaims(token: string): { iss: string | undefined; clientId: string | undefined } | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' ? v.slice(0, 200) : undefined);
    return { iss: str(payload.iss), clientId: str(payload.client_id ?? payload.azp ?? payload.appid ?? payload.cid) };
  } catch {
    return undefined;
  }
}
