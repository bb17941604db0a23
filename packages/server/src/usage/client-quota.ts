import type { RegisteredClient } from '../storage/types.js';
import type { QuotaCounterStore, QuotaWindow } from '../state/types.js';
import type { EndpointEventMap, EndpointEvents } from '../protocol/endpoint-events.js';
import { tooManyRequests } from '../errors/too-many-requests.js';
import { bucketEnd, bucketStart } from './usage-windows.js';

/**
 * A client's token quota, checked as a token is issued. Enforced, it is one atomic
 * increment-and-compare in the shared state on the answer's path (so every instance enforces the
 * same count); past a limit the answer is 429 with Retry-After until the window ends. Observed,
 * the count is not awaited: the token goes out at once and the count, when it comes back past the
 * limit, is reported as what enforcing would have refused. Clients without a quota cost nothing.
 */
export interface ClientQuotaCheck {
  admit(client: RegisteredClient, requestId: string | undefined): Promise<void>;
}

export interface ClientQuotaOptions {
  counters: QuotaCounterStore;
  now: () => number;
  events: EndpointEvents;
  /** Whether the client fetches tokens it does not need (refetch-detector.ts): said in the report. */
  isRefetching: (clientId: string) => boolean;
}

type Granularity = EndpointEventMap['quota.counted']['windows'][number]['window'];

export function createClientQuotaCheck(options: ClientQuotaOptions): ClientQuotaCheck {
  const { counters, now, events } = options;

  function report(
    clientId: string,
    isEnforced: boolean,
    windows: { window: Granularity; counter: QuotaWindow }[],
    result: { isCounted: boolean; used: number[] },
    requestId: string | undefined,
  ) {
    const counted = windows.map(({ window, counter }, index) => ({ window, used: result.used[index]!, limit: counter.limit, endsAt: counter.endsAt }));
    const isOverQuota = isEnforced ? !result.isCounted : counted.some((window) => window.used > window.limit);
    events.emit('quota.counted', { clientId, isEnforced, windows: counted, isOverQuota, isRefetching: options.isRefetching(clientId), requestId });
    return counted;
  }

  return {
    async admit(client, requestId) {
      const { quota, clientId } = client;
      if (!quota) return;
      const windows = quotaWindows(clientId, quota, now());
      if (windows.length === 0) return;
      const stateWindows = windows.map(({ counter }) => counter);
      if (quota.mode === 'observe') {
        // Off the answer's path; a count the shared state could not make is simply not reported.
        void counters.consumeQuota(stateWindows, false).then(
          (result) => report(clientId, false, windows, result, requestId),
          () => undefined,
        );
        return;
      }
      // A quota is no security decision: a count the shared state cannot make (Redis away falls
      // back to this instance's memory; a failing SQLite file does not) lets the token through.
      const result = await counters.consumeQuota(stateWindows, true).catch(() => undefined);
      if (!result) return;
      const counted = report(clientId, true, windows, result, requestId);
      if (result.isCounted) return;
      const full = counted.filter((window) => window.used >= window.limit);
      const endsAt = Math.max(...full.map((window) => window.endsAt));
      const which = full.some((window) => window.window === 'day') ? 'day' : 'hour';
      throw tooManyRequests(
        'quota',
        endsAt - now(),
        `This client has used its token quota for the ${which}; reuse the tokens it has until they near expiry, or retry when the ${which} ends.`,
      );
    },
  };
}

/** The hour and day windows a quota sets, keyed by client and window start. */
export function quotaWindows(clientId: string, quota: NonNullable<RegisteredClient['quota']>, at: number): { window: Granularity; counter: QuotaWindow }[] {
  const windows: { window: Granularity; counter: QuotaWindow }[] = [];
  if (quota.perHour !== null)
    windows.push({ window: 'hour', counter: { key: `${clientId}:h:${bucketStart(at, 'hour')}`, limit: quota.perHour, endsAt: bucketEnd(at, 'hour') } });
  if (quota.perDay !== null)
    windows.push({ window: 'day', counter: { key: `${clientId}:d:${bucketStart(at, 'day')}`, limit: quota.perDay, endsAt: bucketEnd(at, 'day') } });
  return windows;
}
