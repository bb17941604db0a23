import { nextScheduledRotation } from '../keys/scheduled-rotation.js';
import { DependencyUnavailableError } from '../errors/dependency-unavailable.js';
import type { AdminContext } from './admin-context.js';
import type { OverviewView } from './resources/overview.js';

export type { OverviewView } from './resources/overview.js';
export type { OverviewSources } from './overview-sources.js';

/** The most clients each list names. */
const TOP_CLIENTS = 5;
/** A check that has not answered by then counts as failed: the overview never hangs on a dependency. */
export const HEALTH_CHECK_TIMEOUT_MS = 2_000;

export interface OverviewOperations {
  /**
   * The console's overview: this instance's token endpoint over the last hour, the signing keys'
   * ages and next rotation (only for a caller with keys:read, or the local operator), and whether
   * the database and the shared state answer.
   */
  readOverview(): Promise<OverviewView>;
}

export function createOverviewOperations({ deps }: AdminContext): OverviewOperations {
  return {
    async readOverview() {
      const sources = deps.overview;
      if (!sources)
        throw new DependencyUnavailableError('admin opened without overview sources', 'The overview is served by a running server, not this admin.');
      const at = deps.now();
      const activity = sources.activity.snapshot(TOP_CLIENTS);
      const mayReadKeys = deps.caller === undefined || deps.caller.scopes.has('keys:read');
      const [names, keys, database, sharedState] = await Promise.all([
        clientNames(
          deps.storage,
          [...activity.busiestClients, ...activity.failingClients].map((entry) => entry.clientId),
        ),
        mayReadKeys ? deps.storage.listKeys() : undefined,
        timedCheck(() => deps.storage.ping()),
        timedCheck(() => sources.sharedState.check()),
      ]);
      // A client deleted since it was counted is left out: the lists name registered clients only.
      const named = <T extends { clientId: string }>(entries: T[]) =>
        entries.flatMap((entry) => (names.has(entry.clientId) ? [{ ...entry, name: names.get(entry.clientId)! }] : []));
      return {
        generatedAt: at,
        instance: { startedAt: sources.startedAt },
        tokensPerMinute: activity.minutes,
        failuresByReason: activity.failuresByReason,
        busiestClients: named(activity.busiestClients),
        failingClients: named(activity.failingClients),
        ...(keys
          ? {
              keys: keys
                .filter((key) => key.status !== 'retired')
                .map((key) => ({
                  kid: key.kid,
                  alg: key.alg,
                  status: key.status as 'pending' | 'active' | 'published',
                  ageSeconds: Math.max(0, Math.floor((at - key.createdAt) / 1000)),
                  createdAt: key.createdAt,
                })),
              nextRotation: sources.rotationPolicy ? nextScheduledRotation(keys, sources.rotationPolicy) : null,
            }
          : {}),
        health: { database, sharedState: { ...sharedState, kind: sources.sharedState.kind as 'memory' | 'sqlite' | 'redis' } },
      };
    },
  };
}

async function clientNames(storage: AdminContext['deps']['storage'], clientIds: string[]): Promise<Map<string, string>> {
  const unique = [...new Set(clientIds)];
  const clients = await Promise.all(unique.map((clientId) => storage.getClient(clientId)));
  return new Map(clients.flatMap((client) => (client ? [[client.clientId, client.name] as const] : [])));
}

/** Whether a dependency answers, and how fast; a failure or a timeout is `ok: false`, never an error of the overview. */
async function timedCheck(check: () => Promise<unknown>): Promise<{ ok: boolean; latencyMs: number }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), HEALTH_CHECK_TIMEOUT_MS);
    timer.unref();
  });
  const ok = await Promise.race([
    check().then(
      () => true,
      () => false,
    ),
    timedOut,
  ]);
  clearTimeout(timer);
  return { ok, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
}
