/**
 * What the OAuth endpoints report as they answer. An endpoint emits; metrics and logs subscribe
 * (observability/), so no endpoint knows either, and a new subscriber (usage counts, traces) is
 * added where the system is composed rather than threaded through every endpoint.
 */
export interface EndpointEventMap {
  /** The audit trail of token issuance is this event's log line, not a database write per token. */
  'token.issued': {
    clientId: string;
    grantType: string;
    audience: string;
    scope: string;
    jti: string;
    expiresIn: number;
    /** What authenticated the client: `secret:<id>`, `private_key_jwt`, `federated:<credential id>`. */
    credential: string;
    requestId: string | undefined;
  };
  /** Tokens counted against their client's quota: each token when enforced, a batch a second when observed. */
  'quota.counted': {
    clientId: string;
    isEnforced: boolean;
    /** Each window with its count after these tokens (enforced and refused: the counts that refused it). */
    windows: { window: 'hour' | 'day'; used: number; limit: number; endsAt: number }[];
    tokens: number;
    /** Enforced: 1 when refused (429). Observed: those issued that enforcing would have refused. */
    tokensOver: number;
    /** The client fetched tokens while earlier ones were far from expiry (usage/refetch-detector.ts). */
    isRefetching: boolean;
    requestId: string | undefined;
  };
  /** A client seen fetching a new token while its earlier one had most of its life left (at most once an hour per client and instance). */
  'usage.refetching': { clientId: string; audience: string; scope: string; refetches: number };
  /** A platform token presented instead of a secret, and what became of it (by issuer, for metrics). */
  'client.federated': { issuer: string | undefined; result: string };
  'token.failed': { error: unknown; clientId: string | undefined; requestId: string | undefined };
  'introspection.answered': { result: 'active' | 'inactive' | 'not_allowed' };
  'introspection.failed': { error: unknown; requestId: string | undefined };
  'token.revoked': { clientId: string; jti: string; requestId: string | undefined };
  'revocation.failed': { error: unknown; requestId: string | undefined };
}

export type EndpointEventType = keyof EndpointEventMap;
export type EndpointEventListener<K extends EndpointEventType> = (event: EndpointEventMap[K]) => void;

/** The side an endpoint sees: it can only report. */
export interface EndpointEvents {
  emit<K extends EndpointEventType>(type: K, event: EndpointEventMap[K]): void;
}

export interface EndpointEventBus extends EndpointEvents {
  /** Subscribes; returns the unsubscribe function. Listeners run synchronously, in order. */
  on<K extends EndpointEventType>(type: K, listener: EndpointEventListener<K>): () => void;
}

export function createEndpointEventBus(): EndpointEventBus {
  const listeners: { [K in EndpointEventType]?: EndpointEventListener<K>[] } = {};
  return {
    emit(type, event) {
      const subscribed = listeners[type];
      if (subscribed) for (const listener of subscribed) listener(event);
    },
    on(type, listener) {
      const subscribed = (listeners[type] ??= []) as EndpointEventListener<typeof type>[];
      subscribed.push(listener);
      return () => {
        const at = subscribed.indexOf(listener);
        if (at >= 0) subscribed.splice(at, 1);
      };
    },
  };
}
