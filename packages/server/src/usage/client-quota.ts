import type { RegisteredClient } from '../storage/types.js';
import type { QuotaCounterStore, QuotaWindow } from '../state/types.js';
import type { EndpointEventMap, EndpointEvents } from '../protocol/endpoint-events.js';
import { tooManyRequests } from '../errors/too-many-requests.js';
import { bucketEnd, bucketStart } from './usage-windows.js';

/**
 * A client's token quota, checked as a token is issued. Enforced, it is one atomic
 * increment-and-compare in the shared state on the answer's path (so every instance enforces the
 * same count); past a limit the answer is 429 with Retry-After until the window ends. Observed,
 * nothing is awaited nor written per token: tokens are counted in memory and added to the shared
 * windows once a second, and what the windows then hold past the limit is reported as what
 * enforcing would have refused. Clients without a quota cost nothing.
 */
export interface ClientQuotaCheck {
  /** Counts a token about to be issued (429 past an enforced quota); undefined for a client without a quota. */
  admit(client: RegisteredClient, requestId: string | undefined): Promise<QuotaAdmission | undefined>;
  /** Adds the observed tokens counted so far to the shared windows (the timer calls it). */
  flush(): Promise<void>;
  /** Stops the timer and adds what is pending. */
  close(): Promise<void>;
}

/** A token counted against its client's quota before it is issued. */
export interface QuotaAdmission {
  /** The grant refused: the token is not counted after all (not awaited; an outage keeps the count). */
  giveBack(): void;
}

export interface ClientQuotaOptions {
  counters: QuotaCounterStore;
  now: () => number;
  events: EndpointEvents;
  /** Whether the client fetches tokens it does not need (refetch-detector.ts): said in the report. */
  isRefetching: (clientId: string) => boolean;
  /** How often observed counts are added to the shared windows (default 1000 ms). */
  flushIntervalMs?: number;
}

type Granularity = EndpointEventMap['quota.counted']['windows'][number]['window'];
type Quota = NonNullable<RegisteredClient['quota']>;

export function createClientQuotaCheck(options: ClientQuotaOptions): ClientQuotaCheck {
  const { counters, now, events } = options;
  // hour → client → the tokens observed; bounded by the clients that have an observed quota.
  let observed = new Map<number, Map<string, { quota: Quota; tokens: number; requestId: string | undefined }>>();
  let flushing: Promise<void> | undefined;

  function report(
    clientId: string,
    isEnforced: boolean,
    windows: { window: Granularity; counter: QuotaWindow }[],
    result: { isCounted: boolean; used: number[] },
    tokens: number,
    requestId: string | undefined,
  ) {
    const counted = windows.map(({ window, counter }, index) => ({ window, used: result.used[index]!, limit: counter.limit, endsAt: counter.endsAt }));
    // Enforced: the token refused, or none. Observed: of this batch, those past the fullest window's limit.
    const tokensOver = isEnforced
      ? result.isCounted
        ? 0
        : tokens
      : Math.max(0, Math.min(tokens, Math.max(...counted.map((window) => window.used - window.limit))));
    events.emit('quota.counted', { clientId, isEnforced, windows: counted, tokens, tokensOver, isRefetching: options.isRefetching(clientId), requestId });
    return counted;
  }

  /** Adds `tokens` (1, or -1 for one given back) to the client's next observed batch for `hour`. */
  function observe(hour: number, clientId: string, quota: Quota, tokens: number, requestId: string | undefined) {
    let byClient = observed.get(hour);
    if (!byClient) observed.set(hour, (byClient = new Map()));
    const entry = byClient.get(clientId);
    if (entry) {
      entry.tokens += tokens;
      entry.quota = quota;
      entry.requestId = requestId;
    } else byClient.set(clientId, { quota, tokens, requestId });
  }

  async function writeObserved(batch: typeof observed) {
    const writes: Promise<void>[] = [];
    for (const [hour, byClient] of batch) {
      for (const [clientId, { quota, tokens, requestId }] of byClient) {
        if (tokens === 0) continue;
        const windows = quotaWindows(clientId, quota, hour);
        writes.push(
          counters
            .consumeQuota(
              windows.map(({ counter }) => counter),
              false,
              tokens,
            )
            .then(
              (result) => void report(clientId, false, windows, result, tokens, requestId),
              // Informational: a count the shared state could not take is not reported.
              () => undefined,
            ),
        );
      }
    }
    await Promise.all(writes);
  }

  function flush(): Promise<void> {
    if (flushing) return flushing.then(flush);
    if (observed.size === 0) return Promise.resolve();
    const batch = observed;
    observed = new Map();
    flushing = writeObserved(batch).finally(() => (flushing = undefined));
    return flushing;
  }

  const timer = setInterval(() => void (flushing ?? flush()), options.flushIntervalMs ?? 1000);
  timer.unref();

  return {
    async admit(client, requestId) {
      const { quota, clientId } = client;
      if (!quota) return;
      const at = now();
      if (quota.mode === 'observe') {
        const hour = bucketStart(at, 'hour');
        observe(hour, clientId, quota, 1, requestId);
        // Taken off the next batch (before or after this one is written, the count comes out right).
        return { giveBack: () => observe(hour, clientId, quota, -1, requestId) };
      }
      const windows = quotaWindows(clientId, quota, at);
      if (windows.length === 0) return undefined;
      // A quota is no security decision: a count the shared state cannot make (Redis away falls
      // back to this instance's memory; a failing SQLite file does not) lets the token through.
      const result = await counters
        .consumeQuota(
          windows.map(({ counter }) => counter),
          true,
        )
        .catch(() => undefined);
      if (!result) return undefined;
      const counted = report(clientId, true, windows, result, 1, requestId);
      if (result.isCounted) {
        return {
          giveBack: () =>
            void counters
              .consumeQuota(
                windows.map(({ counter }) => counter),
                false,
                -1,
              )
              .catch(() => undefined),
        };
      }
      const full = counted.filter((window) => window.used >= window.limit);
      const endsAt = Math.max(...full.map((window) => window.endsAt));
      const which = full.some((window) => window.window === 'day') ? 'day' : 'hour';
      throw tooManyRequests(
        'quota',
        endsAt - at,
        `This client has used its token quota for the ${which}; reuse the tokens it has until they near expiry, or retry when the ${which} ends.`,
      );
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}

/** The hour and day windows a quota sets at `at`, keyed by client and window start. */
export function quotaWindows(clientId: string, quota: Quota, at: number): { window: Granularity; counter: QuotaWindow }[] {
  const windows: { window: Granularity; counter: QuotaWindow }[] = [];
  if (quota.perHour !== null)
    windows.push({ window: 'hour', counter: { key: `${clientId}:h:${bucketStart(at, 'hour')}`, limit: quota.perHour, endsAt: bucketEnd(at, 'hour') } });
  if (quota.perDay !== null)
    windows.push({ window: 'day', counter: { key: `${clientId}:d:${bucketStart(at, 'day')}`, limit: quota.perDay, endsAt: bucketEnd(at, 'day') } });
  return windows;
}
