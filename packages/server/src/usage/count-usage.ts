import type { EndpointEventBus } from '../protocol/endpoint-events.js';
import type { RefetchDetector } from './refetch-detector.js';
import type { UsageRecorder } from './usage-recorder.js';

/** A client refetching is reported at most this often per instance (with the count since the last report). */
const REFETCH_REPORT_INTERVAL_MS = 3_600_000;
const MAX_REPORTED_CLIENTS = 10_000;

/**
 * Usage counting as a subscriber to `token.issued`, like metrics and logs: each token is counted
 * in the recorder's Map (written to the shared state in batches), marked when it is a refetch,
 * and a client seen refetching is reported once an hour as a `usage.refetching` event.
 */
export function countUsage(events: EndpointEventBus, deps: { recorder: UsageRecorder; refetches: RefetchDetector; now: () => number }): () => void {
  const { recorder, refetches, now } = deps;
  const reported = new Map<string, { at: number; refetches: number }>();
  return events.on('token.issued', (token) => {
    const at = now();
    const isRefetch = refetches.observe(token, at);
    recorder.record(token.clientId, token.audience, isRefetch, at);
    if (!isRefetch) return;
    const last = reported.get(token.clientId);
    if (last && at - last.at < REFETCH_REPORT_INTERVAL_MS) {
      last.refetches += 1;
      return;
    }
    if (!last && reported.size >= MAX_REPORTED_CLIENTS) reported.delete(reported.keys().next().value!);
    reported.set(token.clientId, { at, refetches: 0 });
    events.emit('usage.refetching', { clientId: token.clientId, audience: token.audience, scope: token.scope, refetches: (last?.refetches ?? 0) + 1 });
  });
}
