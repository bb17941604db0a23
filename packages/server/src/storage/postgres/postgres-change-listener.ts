import pg from 'pg';

export interface ChangeListenerOptions {
  /** Client settings of the pool; the listener takes one connection of its own. */
  connection: pg.ClientConfig;
  channel: string;
  /** Only notifications with this payload (the schema written to) concern this storage. */
  payload: string;
  /** First reconnect delay; doubles up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
}

/**
 * LISTEN on a dedicated connection (a pooled one would be handed to queries and lose it), opened
 * only when someone watches — the CLI never does. A dropped connection is reopened with backoff;
 * every (re)connect tells the listeners once, since notifications sent while it was down are lost.
 */
export function createChangeListener(options: ChangeListenerOptions) {
  const listeners = new Set<() => void>();
  let client: pg.Client | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryMs = options.retryMs ?? 250;
  let isClosed = false;

  const emit = () => {
    for (const listener of listeners) listener();
  };

  async function connect() {
    retryTimer = undefined;
    if (isClosed || listeners.size === 0) return;
    const next = new pg.Client(options.connection);
    client = next;
    next.on('notification', (message) => {
      if (message.channel === options.channel && message.payload === options.payload) emit();
    });
    next.on('error', () => reconnect(next));
    next.on('end', () => reconnect(next));
    try {
      await next.connect();
      await next.query(`LISTEN ${options.channel}`);
      retryMs = options.retryMs ?? 250;
      emit();
    } catch {
      reconnect(next);
    }
  }

  function reconnect(failed: pg.Client) {
    if (client !== failed) return;
    client = undefined;
    failed.end().catch(() => undefined);
    if (isClosed || listeners.size === 0 || retryTimer) return;
    retryTimer = setTimeout(() => void connect(), retryMs).unref();
    retryMs = Math.min(retryMs * 2, options.maxRetryMs ?? 5_000);
  }

  async function disconnect() {
    clearTimeout(retryTimer);
    retryTimer = undefined;
    const current = client;
    client = undefined;
    await current?.end().catch(() => undefined);
  }

  return {
    add(listener: () => void): () => void {
      const subscription = () => listener();
      listeners.add(subscription);
      if (!client && !retryTimer && !isClosed) void connect();
      return () => {
        listeners.delete(subscription);
        if (listeners.size === 0) void disconnect();
      };
    },
    async close() {
      isClosed = true;
      listeners.clear();
      await disconnect();
    },
  };
}
