/**
 * The one error type that reaches the wire from the OAuth endpoints. `description` is sent to the
 * client; `detail` only goes to the log (it may name internals, never a secret or a token).
 */
export type OAuthErrorCode =
  // RFC 6749 §5.2
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  // RFC 8707 §2
  | 'invalid_target'
  // RFC 7009 §2.2.1
  | 'unsupported_token_type'
  // RFC 9449 §5 (DPoP), §8 (server nonces)
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  // RFC 6749 §4.1.2.1, used for server-side failures and throttling
  | 'server_error'
  | 'temporarily_unavailable';

const DEFAULT_STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  unsupported_token_type: 400,
  invalid_dpop_proof: 400,
  use_dpop_nonce: 400,
  server_error: 500,
  temporarily_unavailable: 503,
};

export interface OAuthErrorOptions {
  status?: number;
  detail?: string;
  cause?: unknown;
  headers?: Record<string, string>;
  /**
   * The registered client a refusal concerns, set only once the client is known to exist (a wrong
   * secret for it, say): for counting failures per client. Never an id the caller merely sent, never sent.
   */
  registeredClientId?: string | undefined;
}

export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  readonly status: number;
  readonly detail: string | undefined;
  readonly headers: Record<string, string>;
  readonly registeredClientId: string | undefined;

  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    options: OAuthErrorOptions = {},
  ) {
    super(description, { cause: options.cause });
    this.status = options.status ?? DEFAULT_STATUS[error];
    this.detail = options.detail;
    this.headers = options.headers ?? {};
    this.registeredClientId = options.registeredClientId;
  }
}

export const invalidRequest = (description: string, options?: OAuthErrorOptions) => new OAuthError('invalid_request', description, options);
export const invalidScope = (description: string) => new OAuthError('invalid_scope', description);
export const invalidTarget = (description: string) => new OAuthError('invalid_target', description);
