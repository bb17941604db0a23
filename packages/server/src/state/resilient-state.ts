import { DependencyUnavailableError } from '../errors/dependency-unavailable.js';
import { StateCapacityError, type SharedState } from './types.js';

/**
 * What a shared store (Redis) is allowed to do when it cannot answer, decided per operation:
 *
 * - `local`: limits — rate-limit buckets and failed-authentication counters — fall back to this
 *   instance's own memory. Each instance then enforces the limit on its own (N instances allow up
 *   to N times the limit), which is weaker but keeps tokens flowing: refusing every token because
 *   a counter store is away would turn a Redis outage into an authentication outage.
 * - `refuse`: answers that would be a security decision made blind — "was this assertion used
 *   before?", "is this token revoked?", "remember this revocation" — fail closed. Answering from
 *   local memory would accept a replay seen by another instance, or call a revoked token active.
 *   Opaque tokens too: one kept in local memory would be active on this instance only, and one
 *   revoked there would stay active on every other.
 *   Usage counts too: kept in local memory they would be lost to every other instance and read
 *   back as if they were the whole; the recorder drops a refused batch and counts what it lost.
 *
 * Quotas are limits like the rate limits: counted locally, each instance enforces a client's
 * quota on its own for the outage (and its local count starts at zero).
 */
export type OutagePolicy = 'local' | 'refuse';

export const OUTAGE_POLICY = {
  take: 'local',
  countAttempt: 'local',
  peekAttempts: 'local',
  useOnce: 'refuse',
  isTokenRevoked: 'refuse',
  revokeToken: 'refuse',
  putOpaqueToken: 'refuse',
  getOpaqueToken: 'refuse',
  deleteOpaqueToken: 'refuse',
  consumeQuota: 'local',
  addUsage: 'refuse',
  readUsage: 'refuse',
} as const satisfies Record<string, OutagePolicy>;

export type SharedOperation = keyof typeof OUTAGE_POLICY;
export type RefusedOperation = { [K in SharedOperation]: (typeof OUTAGE_POLICY)[K] extends 'refuse' ? K : never }[SharedOperation];

/** Thrown by a fail-closed operation while the shared store is away; the endpoints answer 503. */
export class SharedStateUnavailableError extends DependencyUnavailableError {
  override readonly name = 'SharedStateUnavailableError';
  constructor(
    readonly operation: RefusedOperation,
    cause?: unknown,
  ) {
    super(`shared state unavailable: ${operation} refused`, UNAVAILABLE_DESCRIPTIONS[operation], { cause });
  }
}

/**
 * What a caller is told of a fail-closed check the shared state could not make (Redis away): the
 * request was not wrong, so not `invalid_client` (a client would take its credentials for bad)
 * nor `{"active": false}` at introspection (RFC 7662 §2.2 reserves that for a token that is not
 * active; a resource server caches it). RFC 7009 §2.2.1 names 503 for a revocation the server
 * cannot do now.
 */
const UNAVAILABLE_DESCRIPTIONS: Record<RefusedOperation, string> = {
  useOnce: 'The client assertion cannot be checked against replay right now; retry shortly.',
  isTokenRevoked: 'The token’s revocation status cannot be checked right now; retry shortly.',
  revokeToken: 'The revocation cannot be recorded right now; retry shortly.',
  putOpaqueToken: 'The token cannot be issued right now; retry shortly.',
  getOpaqueToken: 'The token cannot be checked right now; retry shortly.',
  deleteOpaqueToken: 'The revocation cannot be recorded right now; retry shortly.',
  addUsage: 'Usage counts cannot be recorded right now.',
  readUsage: 'Usage counts cannot be read right now; retry shortly.',
};

export interface AvailabilityChange {
  isAvailable: boolean;
  /** Why it became unavailable (a connection or timeout error: never holds a key or a secret). */
  cause?: unknown;
}

/** Read by metrics when scraped and by the runtime for its transition log lines. */
export interface SharedStateHealth {
  isAvailable(): boolean;
  /** Operations answered locally or refused because the shared store was away, since start. */
  fallbackCounts(): { operation: SharedOperation; outcome: 'local' | 'refused'; count: number }[];
  /** Called once per transition, never per request. Returns the unsubscribe function. */
  onChange(listener: (change: AvailabilityChange) => void): () => void;
  /** True once the shared store answers; false if it does not within `timeoutMs`. */
  waitUntilAvailable(timeoutMs: number): Promise<boolean>;
}

export interface ResilientState extends SharedState {
  readonly health: SharedStateHealth;
}

type Status = 'starting' | 'available' | 'unavailable';

export const isResilientState = (state: SharedState): state is ResilientState => 'health' in state;

export interface ResilientStateOptions {
  /** The store every instance shares; `ping` must fail fast when it is away. */
  shared: SharedState & { ping(): Promise<void> };
  /** This instance's own store for the `local` operations (memory). */
  local: SharedState;
  /** How often an away store is asked whether it is back (default 500 ms). */
  probeIntervalMs?: number;
}

/**
 * Decorates the shared store with the outage policy above. It starts as "not yet available" and
 * probes at once, so a server whose Redis is down at start serves too. The first failure of any
 * operation marks the store away: from then on no request waits for it (the `local` operations go
 * straight to memory, the `refuse` ones throw at once) and a background ping every
 * `probeIntervalMs` brings it back when it answers again. Any failure counts, not only a lost
 * connection: a Redis that refuses writes (full, no eviction) must not be trusted to have
 * recorded a use or a revocation either.
 */
export function createResilientState(options: ResilientStateOptions): ResilientState {
  const { shared, local } = options;
  const probeIntervalMs = options.probeIntervalMs ?? 500;
  let status: Status = 'starting';
  let lastError: unknown;
  let probeTimer: NodeJS.Timeout | undefined;
  let isClosed = false;
  let hasProbed = false;
  const listeners = new Set<(change: AvailabilityChange) => void>();
  const waiters = new Set<() => void>();
  const counts = new Map<string, { operation: SharedOperation; outcome: 'local' | 'refused'; count: number }>();

  function setStatus(next: 'available' | 'unavailable', cause?: unknown) {
    if (status === next) return;
    status = next;
    for (const listener of listeners) listener(next === 'available' ? { isAvailable: true } : { isAvailable: false, cause });
    if (next === 'available') {
      for (const wake of waiters) wake();
      waiters.clear();
    } else scheduleProbe();
  }

  function scheduleProbe() {
    if (probeTimer || isClosed) return;
    probeTimer = setTimeout(
      () => {
        probeTimer = undefined;
        shared.ping().then(
          () => setStatus('available'),
          (error: unknown) => {
            lastError = error;
            // The first probe waits for the first connection: failing, Redis is away from the start.
            if (status === 'starting') setStatus('unavailable', error);
            else if (status === 'unavailable') scheduleProbe();
          },
        );
      },
      hasProbed ? probeIntervalMs : 0,
    );
    hasProbed = true;
    probeTimer.unref();
  }

  function count(operation: SharedOperation, outcome: 'local' | 'refused') {
    const key = `${operation} ${outcome}`;
    const entry = counts.get(key);
    if (entry) entry.count += 1;
    else counts.set(key, { operation, outcome, count: 1 });
  }

  /** Runs `operation` on the shared store, or applies its outage policy. */
  async function run<K extends SharedOperation, T>(operation: K, onShared: () => Promise<T>, onLocal: () => Promise<T>): Promise<T> {
    if (status === 'available') {
      try {
        return await onShared();
      } catch (error) {
        // A full bound is the store's answer, not its absence: the caller refuses that one request.
        if (error instanceof StateCapacityError) throw error;
        lastError = error;
        setStatus('unavailable', error);
      }
    }
    if (OUTAGE_POLICY[operation] === 'refuse') {
      count(operation, 'refused');
      throw new SharedStateUnavailableError(operation as RefusedOperation, lastError);
    }
    count(operation, 'local');
    return onLocal();
  }

  scheduleProbe();

  return {
    kind: shared.kind,
    revokeToken: (jti, expiresAt, owner) =>
      run(
        'revokeToken',
        () => shared.revokeToken(jti, expiresAt, owner),
        () => local.revokeToken(jti, expiresAt, owner),
      ),
    isTokenRevoked: (jti) =>
      run(
        'isTokenRevoked',
        () => shared.isTokenRevoked(jti),
        () => local.isTokenRevoked(jti),
      ),
    useOnce: (key, expiresAt, owner) =>
      run(
        'useOnce',
        () => shared.useOnce(key, expiresAt, owner),
        () => local.useOnce(key, expiresAt, owner),
      ),
    putOpaqueToken: (key, value, expiresAt, owner) =>
      run(
        'putOpaqueToken',
        () => shared.putOpaqueToken(key, value, expiresAt, owner),
        () => local.putOpaqueToken(key, value, expiresAt, owner),
      ),
    getOpaqueToken: (key) =>
      run(
        'getOpaqueToken',
        () => shared.getOpaqueToken(key),
        () => local.getOpaqueToken(key),
      ),
    deleteOpaqueToken: (key) =>
      run(
        'deleteOpaqueToken',
        () => shared.deleteOpaqueToken(key),
        () => local.deleteOpaqueToken(key),
      ),
    countAttempt: (key, ttlMs) =>
      run(
        'countAttempt',
        () => shared.countAttempt(key, ttlMs),
        () => local.countAttempt(key, ttlMs),
      ),
    peekAttempts: (key) =>
      run(
        'peekAttempts',
        () => shared.peekAttempts(key),
        () => local.peekAttempts(key),
      ),
    take: (key, limit) =>
      run(
        'take',
        () => shared.take(key, limit),
        () => local.take(key, limit),
      ),
    consumeQuota: (windows, isEnforced, tokens) =>
      run(
        'consumeQuota',
        () => shared.consumeQuota(windows, isEnforced, tokens),
        () => local.consumeQuota(windows, isEnforced, tokens),
      ),
    addUsage: (counts) =>
      run(
        'addUsage',
        () => shared.addUsage(counts),
        () => local.addUsage(counts),
      ),
    readUsage: (query) =>
      run(
        'readUsage',
        () => shared.readUsage(query),
        () => local.readUsage(query),
      ),
    async purgeExpired() {
      // The shared store also expires entries by itself: a failed purge there costs nothing.
      const purgedShared = status === 'available' ? await shared.purgeExpired().catch(() => 0) : 0;
      return purgedShared + (await local.purgeExpired());
    },
    async close() {
      isClosed = true;
      clearTimeout(probeTimer);
      for (const wake of waiters) wake();
      waiters.clear();
      await Promise.all([shared.close(), local.close()]);
    },
    health: {
      isAvailable: () => status === 'available',
      fallbackCounts: () => [...counts.values()].map((entry) => ({ ...entry })),
      onChange(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      async waitUntilAvailable(timeoutMs) {
        if (status === 'available') return true;
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            waiters.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, timeoutMs);
          waiters.add(wake);
        });
        // Re-read: the wait may have changed it (TypeScript still holds the narrowing from above).
        return (status as Status) === 'available';
      },
    },
  };
}
