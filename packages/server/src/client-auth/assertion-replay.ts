import { tooManyRequests } from '../errors/too-many-requests.js';
import { StateCapacityError, type AssertionReplayStore } from '../state/types.js';

/** Records a used assertion in the shared state; over the client's allowance, 429 (fail closed, nothing recorded). */
export function useAssertionOnce(store: AssertionReplayStore, key: string, expiresAtMs: number, clientId: string): Promise<boolean> {
  return store.useOnce(key, expiresAtMs, clientId).catch((error: unknown) => {
    if (!(error instanceof StateCapacityError)) throw error;
    throw tooManyRequests('assertions', error.retryAfterMs, 'This client has used too many client assertions recently; retry later.');
  });
}
