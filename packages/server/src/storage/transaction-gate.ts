import type { RegistryStores, TransactionalStore } from './types.js';

export interface TransactionHooks {
  /**
   * Starts a transaction. An adapter with one connection (memory, SQLite) returns nothing: the work
   * runs on its own stores. A pooled adapter (PostgreSQL) returns stores bound to the one
   * connection it took from the pool for this transaction.
   */
  begin(): void | RegistryStores | Promise<void | RegistryStores>;
  commit(): void | Promise<void>;
  rollback(): void | Promise<void>;
}

/**
 * Gives an adapter the contract's transaction semantics within one process: one transaction at a
 * time, and every call made outside it through the same Storage — reads included — waits until it
 * ends, so no caller in this process sees or joins a transaction's uncommitted writes. Other
 * processes are the database's business (PostgreSQL: they see only committed data). Outside a
 * transaction a call goes straight through (no extra await on the hot path).
 */
export function withTransactions<S extends RegistryStores>(stores: S, hooks: TransactionHooks): S & TransactionalStore {
  let running: Promise<unknown> | undefined;

  const gated = {} as Record<string, unknown>;
  for (const [name, value] of Object.entries(stores)) {
    // watchChanges only registers a listener: synchronous, and nothing a transaction could hide.
    if (typeof value !== 'function' || name === 'watchChanges') {
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
    const run = (async () => {
      const bound = await hooks.begin();
      const tx = guardAfterEnd(bound ?? stores, () => isOpen);
      try {
        const result = await work(tx);
        await hooks.commit();
        return result;
      } catch (error) {
        await hooks.rollback();
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

const NOT_IN_TRANSACTION = new Set(['close', 'ping', 'currentRevision', 'transaction', 'watchChanges', 'changesSince']);

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
