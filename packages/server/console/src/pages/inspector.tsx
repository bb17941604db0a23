import { useEffect, useState } from 'preact/hooks';
import type { Inspection } from '../api/types.ts';
import { PageHeader } from '../components/page.tsx';
import { ProblemView } from '../components/problem-view.tsx';
import { useConsole } from '../context.ts';
import { decodeJwt } from '../lib/decode-jwt.ts';
import { formatDuration, formatTime } from '../lib/format.ts';
import { useAction } from '../lib/use-action.ts';

const SIGNATURE: Record<Inspection['signature'], string> = {
  valid: 'valid: signed by one of this server’s keys',
  invalid: 'INVALID: the signature does not match this server’s key',
  unknown_key: 'unknown key: no key of this server has this kid',
  not_applicable: 'not applicable (not a JWT)',
};

/**
 * Paste a token: its header and claims decoded here, its signature and revocation checked by the
 * server (POST /admin/v1/tokens/inspect). The token stays in this page: never in the URL, never
 * logged, gone when you leave the page.
 */
export function InspectorPage() {
  const { api } = useConsole();
  const [token, setToken] = useState('');
  const [inspection, setInspection] = useState<Inspection>();
  const action = useAction();
  const jwt = token.trim() ? decodeJwt(token) : undefined;
  // An opaque token has nothing to decode here: the server shows the claims it issued it with.
  const decoded = jwt ?? (inspection?.claims ? { claims: inspection.claims } : undefined);
  const exp = typeof decoded?.claims.exp === 'number' ? decoded.claims.exp : undefined;
  return (
    <>
      <PageHeader title="Token inspector">
        Paste an access token to see its header and claims (decoded in your browser) and have this server check its signature, expiry and revocation.
      </PageHeader>
      <form
        class="card"
        onSubmit={async (event) => {
          event.preventDefault();
          setInspection(undefined);
          await action.run(async () => setInspection(await api.send<Inspection>('POST', '/tokens/inspect', { token: token.trim() })));
        }}
      >
        <label>
          Access token
          <textarea
            name="token"
            rows={5}
            class="mono"
            spellcheck={false}
            autocomplete="off"
            value={token}
            onInput={(event) => {
              setToken(event.currentTarget.value);
              setInspection(undefined);
            }}
          />
        </label>
        <div class="actions">
          <button type="submit" class="primary" disabled={!token.trim() || action.isBusy}>
            Check with the server
          </button>
          <button
            type="button"
            onClick={() => {
              setToken('');
              setInspection(undefined);
              action.clear();
            }}
          >
            Clear
          </button>
        </div>
      </form>
      <ProblemView problem={action.problem} />
      {inspection ? <Verdict inspection={inspection} /> : null}
      {token.trim() && !jwt && !inspection ? <p>This is not a JWT: an opaque token can only be read and checked by the server.</p> : null}
      {decoded ? (
        <div class="grid">
          {jwt ? (
            <section class="card" aria-labelledby="header-heading">
              <h2 id="header-heading">Header</h2>
              <pre class="json" data-testid="jwt-header">
                {JSON.stringify(jwt.header, null, 2)}
              </pre>
            </section>
          ) : null}
          <section class="card" aria-labelledby="claims-heading">
            <h2 id="claims-heading">Claims</h2>
            {exp !== undefined ? <Countdown exp={exp} /> : null}
            <pre class="json" data-testid="jwt-claims">
              {JSON.stringify(decoded.claims, null, 2)}
            </pre>
          </section>
        </div>
      ) : null}
    </>
  );
}

function Verdict({ inspection }: { inspection: Inspection }) {
  const isGood = inspection.active && (inspection.signature === 'valid' || inspection.signature === 'not_applicable');
  return (
    <section class={`card verdict ${isGood ? 'good' : 'bad'}`} aria-labelledby="verdict-heading" role="status">
      <h2 id="verdict-heading">{isGood ? 'Active token of this server' : 'Not an active token of this server'}</h2>
      <dl class="facts">
        <dt>Signature</dt>
        <dd data-testid="signature">{SIGNATURE[inspection.signature]}</dd>
        <dt>Format</dt>
        <dd>{inspection.format}</dd>
        <dt>Issued here</dt>
        <dd>{inspection.issued_here ? 'yes' : 'no'}</dd>
        <dt>Expired</dt>
        <dd>{inspection.expired ? 'yes' : 'no'}</dd>
        <dt>Revoked</dt>
        <dd data-testid="revoked">{inspection.revoked ? 'yes' : 'no'}</dd>
        {inspection.reason ? (
          <>
            <dt>Why</dt>
            <dd>{inspection.reason}</dd>
          </>
        ) : null}
      </dl>
    </section>
  );
}

/** Time left until `exp`, ticking each second (not announced: a live region would chatter). */
function Countdown({ exp }: { exp: number }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const left = exp - now / 1000;
  return (
    <p data-testid="expiry">
      {left > 0 ? (
        <>
          Expires in <strong>{formatDuration(left)}</strong> ({formatTime(new Date(exp * 1000).toISOString())})
        </>
      ) : (
        <>
          <strong>Expired</strong> {formatDuration(-left)} ago ({formatTime(new Date(exp * 1000).toISOString())})
        </>
      )}
    </p>
  );
}
