import type { SecretUsageStore, SecretUse } from '../storage/lifecycle-types.js';

/**
 * Last-use times of client secrets without a database write per token: uses are kept in a Map
 * (one entry per secret, the latest wins) and written in one batch every `flushIntervalMs`, off the
 * request path. A crash loses at most one interval of last-use times, which only inform operators.
 */
export interface SecretUsageRecorder {
  record(clientId: string, secretId: string): void;
  flush(): Promise<void>;
  /** Stops the timer and writes what is pending. */
  close(): Promise<void>;
}

export function createSecretUsageRecorder(options: {
  store: SecretUsageStore;
  now: () => number;
  flushIntervalMs?: number;
  onError?: (error: unknown) => void;
}): SecretUsageRecorder {
  let pending = new Map<string, SecretUse>();
  const flush = async () => {
    if (pending.size === 0) return;
    const batch = [...pending.values()];
    pending = new Map();
    try {
      await options.store.recordSecretUse(batch);
    } catch (error) {
      options.onError?.(error);
    }
  };
  const timer = setInterval(() => void flush(), options.flushIntervalMs ?? 30_000);
  timer.unref();
  return {
    record(clientId, secretId) {
      const entry = pending.get(secretId);
      if (entry) entry.at = options.now();
      else pending.set(secretId, { clientId, secretId, at: options.now() });
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
