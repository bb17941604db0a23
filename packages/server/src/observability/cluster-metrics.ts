import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * One /metrics for the whole server under `serve --workers N`: whichever worker Prometheus
 * reaches asks the cluster primary, which collects every worker's registry through prom-client's
 * AggregatorRegistry and sums them (gauges say how they combine: `aggregator`). Without cluster
 * workers, the process's own registry answers.
 */
const REQUEST = 'm2m-auth:cluster-metrics';
const RESULT = 'm2m-auth:cluster-metrics-result';
const TIMEOUT_MS = 5000;

interface MetricsResult {
  type: typeof RESULT;
  id: number;
  text?: string;
  error?: string;
}

/** In the primary: answer workers' requests with the metrics of all workers. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: { type?: string; id?: number }) => {
    if (message?.type !== REQUEST || typeof message.id !== 'number') return;
    const { id } = message;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: RESULT, id, text } satisfies MetricsResult),
      (error: Error) => worker.send({ type: RESULT, id, error: error.message } satisfies MetricsResult),
    );
  });
}

/** In a worker: share this registry with the primary, and return a collector for /metrics. */
export function clusterMetricsCollector(registry: Registry): () => Promise<string> {
  new AggregatorRegistry(); // installs prom-client's worker-side listener
  AggregatorRegistry.setRegistries([registry]);
  let nextId = 0;
  const pending = new Map<number, (result: MetricsResult) => void>();
  process.on('message', (message: MetricsResult) => {
    if (message?.type === RESULT) pending.get(message.id)?.(message);
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('cluster metrics timed out'));
      }, TIMEOUT_MS);
      pending.set(id, (result) => {
        clearTimeout(timer);
        pending.delete(id);
        if (result.text !== undefined) resolve(result.text);
        else reject(new Error(result.error ?? 'cluster metrics failed'));
      });
      process.send!({ type: REQUEST, id });
    });
}
