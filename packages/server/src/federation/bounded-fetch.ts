import { fetchableUrlProblem } from './federation-rules.js';

/**
 * How the server reads an issuer's discovery document and keys: the URLs come from an operator,
 * but what answers them is another system, so every read is bounded. It times out, reads at most
 * `maxBytes`, follows a redirect only to the same origin (a redirect to another host could hand
 * key selection to whoever controls it), and never fetches plain http except from loopback.
 */
export interface BoundedFetchOptions {
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  fetch: typeof fetch;
}

export const DEFAULT_BOUNDED_FETCH: BoundedFetchOptions = { timeoutMs: 5_000, maxBytes: 256 * 1024, maxRedirects: 3, fetch: globalThis.fetch };

/** A JSON document from `url`, or an Error whose message says what went wrong (for the log, never the caller). */
export async function fetchJsonBounded(url: string, options: BoundedFetchOptions = DEFAULT_BOUNDED_FETCH): Promise<unknown> {
  const problem = fetchableUrlProblem(url);
  if (problem) throw new Error(`${url} ${problem}`);
  const origin = new URL(url).origin;
  const signal = AbortSignal.timeout(options.timeoutMs);
  let current = url;
  for (let redirects = 0; ; redirects += 1) {
    const response = await options.fetch(current, { redirect: 'manual', signal, headers: { accept: 'application/json, application/jwk-set+json' } });
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      const location = response.headers.get('location');
      if (!location) throw new Error(`${current} answered ${response.status} without a Location`);
      const next = new URL(location, current);
      if (next.origin !== origin) throw new Error(`${current} redirects to another origin (${next.origin}); not followed`);
      if (redirects >= options.maxRedirects) throw new Error(`${url}: more than ${options.maxRedirects} redirects`);
      current = next.href;
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`${current} answered ${response.status}`);
    }
    const text = await readAtMost(response, options.maxBytes, current);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new Error(`${current} did not answer JSON`);
    }
  }
}

async function readAtMost(response: Response, maxBytes: number, url: string): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw new Error(`${url} answered ${declared} bytes, more than the ${maxBytes} allowed`);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Error(`${url} answered more than the ${maxBytes} bytes allowed`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
