const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * A token as the SDK hands it out. The token string lives in a private field behind a getter, so
 * logging the object (console.log, util.inspect, JSON.stringify) never prints it.
 */
export class AccessToken {
  readonly #value: string;
  readonly tokenType: string;
  /** Expiry, milliseconds since the epoch (from expires_in at receipt). */
  readonly expiresAt: number;
  /** The scopes granted, as the provider reported them. */
  readonly scope: string | undefined;

  constructor(value: string, tokenType: string, expiresAt: number, scope: string | undefined) {
    this.#value = value;
    this.tokenType = tokenType;
    this.expiresAt = expiresAt;
    this.scope = scope;
  }

  get accessToken(): string {
    return this.#value;
  }

  toJSON() {
    return { accessToken: '[redacted]', tokenType: this.tokenType, expiresAt: this.expiresAt, scope: this.scope };
  }

  [INSPECT]() {
    return `AccessToken { tokenType: '${this.tokenType}', expiresAt: ${new Date(this.expiresAt).toISOString()}, scope: ${JSON.stringify(this.scope)}, accessToken: [redacted] }`;
  }
}
