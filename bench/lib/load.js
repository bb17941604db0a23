import autocannon from 'autocannon';

/**
 * One bounded load run on loopback. Non-2xx answers and socket errors are counted, not hidden: a
 * benchmark that measures fast failures is worse than none.
 */
export async function runLoad({ url, method = 'GET', headers = {}, body, connections, durationSeconds }) {
  const result = await autocannon({
    url,
    method,
    headers,
    body,
    connections,
    duration: durationSeconds,
    pipelining: 1,
  });
  return {
    requestsPerSecond: result.requests.total / durationSeconds,
    total: result.requests.total,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}
