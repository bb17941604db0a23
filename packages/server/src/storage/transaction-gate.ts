import type { RegistryStores, TransactionalStore } from './types.js';

export interface TransactionHooks {
  begin(): void;
  commit(): void;
  rollback(): void;
}

/**
 * Gives an adapter whose statements run on one connection (memory, SQLite) the contract's
 * transaction semantics: one transaction at a time, and every call made outside it — reads
 * included — waits until it ends, so no caller sees or joins a transaction's uncommitted writes.
 * Outside a transaction a call goes straight through (no extra await on the hot path).
 */
export function withTransactions<S extends RegistryStores>(stores: S, hooks: TransactionHooks): S & TransactionalStore {
  let running: Promise<unknown> | undefined;

  const gated = {} as Record<string, unknown>;
  for (const [name, value] of Object.entries(stores)) {
    if (typeof value !== 'function') {
      gated[name] = value;
      continue;
    }
    const method = value as (...args: unknown[]) => Promise<unknown>;
    gated[name] = (...args: unknown[]) => (running ? waitThen(() => method(...args)) : method(...args));
  }

  async function waitThen<T>(call: () => Promise<T>): Promise<T> {
    while (running) await running.catch(() => undefined);
    return call();
  }

  async function transaction<T>(work: (tx: RegistryStores) => Promise<T>): Promise<T> {
    while (running) await running.catch(() => undefined);
    let isOpen = true;
    const tx = guardAfterEnd(stores, () => isOpen);
    const run = (async () => {
      hooks.begin();
      try {
        const result = await work(tx);
        hooks.commit();
        return result;
      } catch (error) {
        hooks.rollback();
        throw error;
      } finally {
        isOpen = false;
      }
    })();
    running = run;
    try {
      return await run;
    } finally {
      if (running === run) running = undefined;
    }
  }

  return Object.assign(gated as S, { transaction });
}

const NOT_IN_TRANSACTION = new Set(['close', 'ping', 'currentRevision', 'transaction']);

/** A transaction handle kept past its end would write outside any transaction: refuse it. */
function guardAfterEnd<S extends RegistryStores>(stores: S, isOpen: () => boolean): S {
  const guarded = {} as Record<string, unknown>;
  for (const [name, value] of Object.entries(stores)) {
    if (typeof value !== 'function' || NOT_IN_TRANSACTION.has(name)) continue;
    const method = value as (...args: unknown[]) => Promise<unknown>;
    guarded[name] = (...args: unknown[]) => {
      if (!isOpen()) return Promise.reject(new Error(`transaction already ended: ${name} called on a stale handle`));
      return method(...args);
    };
  }
  return guarded as S;
}
