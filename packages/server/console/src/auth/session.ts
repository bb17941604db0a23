import { asProblem, problemFrom } from '../api/problem.ts';

/**
 * Sign-in: the admin client's id and secret exchanged for an admin token (client credentials,
 * audience urn:m2m-auth:admin), the same way the CLI gets one.
 *
 * The token lives in this module's memory only: never in localStorage, sessionStorage, a cookie or
 * the URL, so a reload signs out. Admin tokens live at most 300 seconds, so the session renews
 * its token a minute before it expires; to do that without asking again, the secret stays in the
 * closure of `renew` below — never written anywhere, not exported, dropped at sign-out (and when
 * the page goes away). docs/console.md discusses the trade-off.
 */
export const ADMIN_AUDIENCE = 'urn:m2m-auth:admin';
/** Renew this long before expiry; a token shorter-lived than twice this renews at half its life. */
const RENEW_AHEAD_MS = 60_000;
const RETRY_MS = 10_000;

export interface Session {
  readonly clientId: string;
  readonly scopes: ReadonlySet<string>;
  readonly expiresAt: number;
}

export interface SessionEvents {
  /** After sign-in, each renewal and sign-out (undefined); `reason` says why a session ended on its own. */
  onChange(session: Session | undefined, reason?: string): void;
}

interface TokenAnswer {
  access_token: string;
  expires_in: number;
  scope?: string;
}

export interface SessionManager {
  signIn(clientId: string, secret: string): Promise<Session>;
  signOut(reason?: string): Promise<void>;
  /** The bearer token for the admin API, while signed in. */
  token(): string | undefined;
  current(): Session | undefined;
}

const basic = (clientId: string, secret: string) =>
  // RFC 6749 §2.3.1: both parts form-encoded before base64.
  `Basic ${btoa(`${formEncode(clientId)}:${formEncode(secret)}`)}`;
const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');

async function postForm(path: string, authorization: string, params: Record<string, string>): Promise<Response> {
  return fetch(path, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(params).toString(),
    credentials: 'omit',
    cache: 'no-store',
    // A revocation sent as the page goes away still reaches the server.
    keepalive: true,
  });
}

/** RFC 6749 §5.2 answers that mean these credentials will not get a token (not "try later": 429, 5xx). */
const isRefusal = (status: number) => status === 400 || status === 401 || status === 403;

export function createSessionManager(events: SessionEvents, now: () => number = Date.now): SessionManager {
  let accessToken: string | undefined;
  let session: Session | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Holds the secret, in its closure, while signed in; undefined otherwise. */
  let renew: (() => Promise<TokenAnswer>) | undefined;
  let revoke: ((token: string) => Promise<void>) | undefined;

  function adopt(clientId: string, answer: TokenAnswer): Session {
    accessToken = answer.access_token;
    session = { clientId, scopes: new Set((answer.scope ?? '').split(' ').filter(Boolean)), expiresAt: now() + answer.expires_in * 1000 };
    schedule(answer.expires_in * 1000);
    events.onChange(session);
    return session;
  }

  function schedule(lifetimeMs: number) {
    clearTimeout(timer);
    const delay = lifetimeMs > 2 * RENEW_AHEAD_MS ? lifetimeMs - RENEW_AHEAD_MS : lifetimeMs / 2;
    timer = setTimeout(renewNow, delay);
  }

  async function renewNow() {
    const clientId = session?.clientId;
    const requestToken = renew;
    const revokeToken = revoke;
    if (!requestToken || !clientId) return;
    try {
      const previous = accessToken;
      const answer = await requestToken();
      // Signed out while the renewal was on its way: its token is not wanted either.
      if (renew !== requestToken) return void revokeToken?.(answer.access_token).catch(() => undefined);
      adopt(clientId, answer);
      // One live admin token at a time: the one replaced is revoked, not left to expire.
      if (previous) void revokeToken?.(previous).catch(() => undefined);
    } catch (error) {
      if (renew !== requestToken) return;
      const problem = asProblem(error);
      // The server refused the credentials (secret revoked, client disabled, grant gone): the
      // session is over. Otherwise (unreachable, busy, rate-limited) try again while the token works.
      if (isRefusal(problem.status)) return void signOut(`Your session ended: ${problem.message}`);
      if (session && session.expiresAt - now() > RETRY_MS) timer = setTimeout(renewNow, RETRY_MS);
      else void signOut('Your session ended: the server could not be reached to renew it.');
    }
  }

  async function signIn(clientId: string, secret: string): Promise<Session> {
    const authorization = basic(clientId, secret);
    const requestToken = async (): Promise<TokenAnswer> => {
      const response = await postForm('/oauth/token', authorization, { grant_type: 'client_credentials', audience: ADMIN_AUDIENCE });
      if (!response.ok) throw await problemFrom(response);
      return (await response.json()) as TokenAnswer;
    };
    const answer = await requestToken();
    renew = requestToken;
    revoke = async (token) => {
      await postForm('/oauth/revoke', authorization, { token, token_type_hint: 'access_token' });
    };
    return adopt(clientId, answer);
  }

  async function signOut(reason?: string) {
    const token = accessToken;
    const revokeToken = revoke;
    clearTimeout(timer);
    accessToken = undefined;
    session = undefined;
    renew = undefined;
    revoke = undefined;
    events.onChange(undefined, reason);
    // Revoked at the server too, so a copy of it (a screenshot, a shoulder) is useless at once.
    if (token && revokeToken) await revokeToken(token).catch(() => undefined);
  }

  return { signIn, signOut, token: () => accessToken, current: () => session };
}
