import { OAuthError } from '../errors/oauth-error.js';

export interface LoadLimiterOptions {
  /** Storage reads for uncached records allowed at once. */
  maxConcurrent: number;
  /** Reads waiting for a slot; beyond this a read is refused at once. */
  maxQueued: number;
}

export interface LoadLimiterStats {
  inFlight: number;
  queued: number;
  refused: number;
}

/**
 * Caps what cache misses can cost the database. A flood of made-up client ids misses the cache
 * every time (a negative cache only helps with repeats); here it costs at most `maxConcurrent`
 * queries at once, and once the queue is full further misses are answered 503 with Retry-After
 * instead of piling onto a database every instance shares.
 */
export function createLoadLimiter(options: LoadLimiterOptions) {
  let inFlight = 0;
  let refused = 0;
  const waiting: (() => void)[] = [];

  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else inFlight -= 1;
  };

  return {
    async run<T>(load: () => Promise<T>): Promise<T> {
      if (inFlight >= options.maxConcurrent) {
        if (waiting.length >= options.maxQueued) {
          refused += 1;
          throw new OAuthError('temporarily_unavailable', 'The server is busy; retry shortly.', { status: 503, headers: { 'retry-after': '1' } });
        }
        // The slot is handed over by release(), so inFlight stays counted for us.
        await new Promise<void>((resolve) => waiting.push(resolve));
      } else {
        inFlight += 1;
      }
      try {
        return await load();
      } finally {
        release();
      }
    },
    stats: (): LoadLimiterStats => ({ inFlight, queued: waiting.length, refused }),
  };
}
