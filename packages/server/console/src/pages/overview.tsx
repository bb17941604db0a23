import { useEffect } from 'preact/hooks';
import type { Overview } from '../api/types.ts';
import { PageHeader } from '../components/page.tsx';
import { Loading, ProblemView } from '../components/problem-view.tsx';
import { useConsole } from '../context.ts';
import { formatDuration, formatTime } from '../lib/format.ts';
import { useLoad } from '../lib/use-load.ts';

const REFRESH_MS = 15_000;

/** One request (GET /admin/v1/overview) shows the whole page; it refreshes every 15 seconds. */
export function OverviewPage() {
  const { api } = useConsole();
  const overview = useLoad(() => api.get<Overview>('/overview'));
  useEffect(() => {
    const timer = setInterval(overview.reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [overview.reload]);
  const data = overview.data;
  return (
    <>
      <PageHeader
        title="Overview"
        actions={
          <button type="button" onClick={overview.reload}>
            Refresh
          </button>
        }
      >
        Tokens issued in the last hour, what failed and who, the signing keys and the health of the database and the shared state.
        {data ? ` As of ${formatTime(data.generated_at)}.` : ''}
      </PageHeader>
      <ProblemView problem={overview.problem} />
      {!data && overview.isLoading ? <Loading what="the overview" /> : null}
      {data ? <OverviewBody data={data} /> : null}
    </>
  );
}

function OverviewBody({ data }: { data: Overview }) {
  const issued = data.tokens_per_minute.reduce((sum, minute) => sum + minute.issued, 0);
  const failed = data.tokens_per_minute.reduce((sum, minute) => sum + minute.failed, 0);
  return (
    <div class="grid">
      <section class="card wide" aria-labelledby="tokens-heading">
        <h2 id="tokens-heading">Tokens per minute</h2>
        <p class="figures">
          <span>
            <strong data-testid="issued-total">{issued}</strong> issued
          </span>
          <span>
            <strong data-testid="failed-total">{failed}</strong> failed
          </span>
          <span class="muted">in the last {data.tokens_per_minute.length} minutes</span>
        </p>
        <TokenChart minutes={data.tokens_per_minute} />
      </section>
      <section class="card" aria-labelledby="health-heading">
        <h2 id="health-heading">Health</h2>
        <dl class="facts">
          <dt>Database</dt>
          <dd>
            <Status ok={data.health.database.ok} /> {latency(data.health.database.latency_ms)}
          </dd>
          <dt>Shared state ({data.health.shared_state.kind})</dt>
          <dd>
            <Status ok={data.health.shared_state.ok} /> {latency(data.health.shared_state.latency_ms)}
          </dd>
          <dt>Instance started</dt>
          <dd>{formatTime(data.instance.started_at)}</dd>
        </dl>
      </section>
      <section class="card" aria-labelledby="failures-heading">
        <h2 id="failures-heading">Failures by reason</h2>
        {data.failures_by_reason.length === 0 ? (
          <p class="muted">No failed token requests.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Reason</th>
                <th scope="col" class="num">
                  Count
                </th>
              </tr>
            </thead>
            <tbody>
              {data.failures_by_reason.map((row) => (
                <tr key={row.reason}>
                  <td>
                    <code>{row.reason}</code>
                  </td>
                  <td class="num">{row.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section class="card" aria-labelledby="busiest-heading">
        <h2 id="busiest-heading">Busiest clients</h2>
        {data.busiest_clients.length === 0 ? (
          <p class="muted">No tokens issued.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Client</th>
                <th scope="col" class="num">
                  Issued
                </th>
              </tr>
            </thead>
            <tbody>
              {data.busiest_clients.map((row) => (
                <tr key={row.client_id}>
                  <td>
                    {row.name} <code class="muted">{row.client_id}</code>
                  </td>
                  <td class="num">{row.issued}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section class="card" aria-labelledby="failing-heading">
        <h2 id="failing-heading">Failing clients</h2>
        {data.failing_clients.length === 0 ? (
          <p class="muted">No client is failing.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Client</th>
                <th scope="col" class="num">
                  Failed
                </th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {data.failing_clients.map((row) => (
                <tr key={row.client_id}>
                  <td>
                    {row.name} <code class="muted">{row.client_id}</code>
                  </td>
                  <td class="num">{row.failed}</td>
                  <td>
                    <code>{row.last_error}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {data.keys ? (
        <section class="card" aria-labelledby="keys-heading">
          <h2 id="keys-heading">Signing keys</h2>
          <p>
            Next rotation: <strong>{data.next_rotation ? formatTime(data.next_rotation) : 'not scheduled'}</strong>
          </p>
          <table>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Age
                </th>
              </tr>
            </thead>
            <tbody>
              {data.keys.map((key) => (
                <tr key={key.kid}>
                  <td>
                    <code>{key.kid}</code> <span class="muted">{key.alg}</span>
                  </td>
                  <td>
                    <span class={`badge status-${key.status}`}>{key.status}</span>
                  </td>
                  <td class="num">{formatDuration(key.age_seconds)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
    </div>
  );
}

const latency = (ms: number | null) => (ms === null ? '' : `${ms} ms`);

function Status({ ok }: { ok: boolean }) {
  return <span class={ok ? 'badge ok' : 'badge bad'}>{ok ? 'healthy' : 'failing'}</span>;
}

/** Bars of issued (and failed, stacked) tokens per minute; the figures above say the same in words. */
function TokenChart({ minutes }: { minutes: Overview['tokens_per_minute'] }) {
  const width = 600;
  const height = 120;
  const most = Math.max(1, ...minutes.map((minute) => minute.issued + minute.failed));
  const bar = width / Math.max(1, minutes.length);
  const scale = (count: number) => (count / most) * (height - 4);
  const first = minutes[0];
  const last = minutes[minutes.length - 1];
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`Tokens per minute, ${minutes.length} minutes: the most in one minute was ${most}`}>
        <line x1="0" y1={height - 0.5} x2={width} y2={height - 0.5} class="axis" />
        {minutes.map((minute, index) => {
          const issuedHeight = scale(minute.issued);
          const failedHeight = scale(minute.failed);
          return (
            <g key={minute.minute}>
              <title>{`${formatTime(minute.minute)}: ${minute.issued} issued, ${minute.failed} failed`}</title>
              <rect x={index * bar + 1} y={height - issuedHeight} width={Math.max(1, bar - 2)} height={issuedHeight} class="bar-issued" />
              <rect x={index * bar + 1} y={height - issuedHeight - failedHeight} width={Math.max(1, bar - 2)} height={failedHeight} class="bar-failed" />
            </g>
          );
        })}
      </svg>
      <figcaption class="muted">
        <span class="legend issued">issued</span> <span class="legend failed">failed</span>
        {first && last ? ` · ${formatTime(first.minute)} to ${formatTime(last.minute)}` : ''}
      </figcaption>
    </figure>
  );
}
