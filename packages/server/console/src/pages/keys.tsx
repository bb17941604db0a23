import { useState } from 'preact/hooks';
import { segment } from '../api/admin-client.ts';
import { ProblemError } from '../api/problem.ts';
import type { KeyStatus, SigningKey } from '../api/types.ts';
import { Confirm } from '../components/confirm.tsx';
import { PageHeader } from '../components/page.tsx';
import { Loading, ProblemView } from '../components/problem-view.tsx';
import { SecretOnce } from '../components/secret-once.tsx';
import { useConsole } from '../context.ts';
import { ageOf, formatTime } from '../lib/format.ts';
import { useAction } from '../lib/use-action.ts';
import { useLoad } from '../lib/use-load.ts';

/** A key's life, left to right: published ahead, signing, still verifying, gone from the JWKS. */
const LANES: { status: KeyStatus; title: string; explains: string }[] = [
  { status: 'pending', title: 'Next', explains: 'Published in the JWKS ahead of signing, so verifiers know it before its first token.' },
  { status: 'active', title: 'Current', explains: 'Signs new tokens.' },
  { status: 'published', title: 'Retiring', explains: 'No longer signs; stays published until the tokens it signed expire.' },
  { status: 'retired', title: 'Retired', explains: 'Out of the JWKS: tokens it signed no longer verify.' },
];

/** The server's refusal to retire a key whose tokens may be alive: its words, from signing-key-lifecycle. */
const isLiveTokenGuard = (problem: ProblemError) =>
  [problem.detail ?? '', ...problem.errors.map((error) => error.message)].some((text) => /may be alive/.test(text));

/**
 * Rotate and retire with the CLI's guards: the server enforces them (a key whose tokens may still
 * be alive is not retired without force), and the console shows its problem details as they come.
 */
export function KeysPage() {
  const { api, can, announce } = useConsole();
  const canRead = can('keys:read');
  const canWrite = can('keys:write');
  const keys = useLoad(() => (canRead ? api.get<{ items: SigningKey[] }>('/keys').then((list) => list.items) : Promise.resolve([])));
  const [retiring, setRetiring] = useState<{ key: SigningKey; force: boolean }>();
  const [sharedSecret, setSharedSecret] = useState<string>();
  const rotate = useAction();
  const algs = [...new Set((keys.data ?? []).filter((key) => key.status === 'active' && key.alg !== 'HS256').map((key) => key.alg))];

  return (
    <>
      <PageHeader title="Signing keys">
        The keys that sign access tokens, from the next one to the retired. Rotation publishes a new key and makes it sign; the previous one keeps verifying the
        tokens it signed.
      </PageHeader>
      {canWrite ? (
        <form
          class="card inline-form"
          onSubmit={async (event) => {
            event.preventDefault();
            const alg = String(new FormData(event.currentTarget).get('alg') ?? '');
            await rotate.run(async () => {
              const rotated = await api.send<{ key: SigningKey; previous: SigningKey[]; shared_secret?: string }>('POST', '/keys/rotate', alg ? { alg } : {});
              if (rotated.shared_secret) setSharedSecret(rotated.shared_secret);
              announce(`Rotated: ${rotated.key.kid} signs from now on.`);
              keys.reload();
            });
          }}
        >
          {algs.length > 1 ? (
            <label>
              Algorithm
              <select name="alg">
                {algs.map((alg) => (
                  <option key={alg}>{alg}</option>
                ))}
              </select>
            </label>
          ) : null}
          <button type="submit" class="primary" disabled={rotate.isBusy}>
            Rotate now
          </button>
          <ProblemView problem={rotate.problem} />
        </form>
      ) : null}
      {sharedSecret ? <SecretOnce label="shared secret" value={sharedSecret} /> : null}
      <ProblemView problem={keys.problem} />
      {canRead && !keys.data && keys.isLoading ? <Loading what="signing keys" /> : null}
      {canRead && keys.data ? (
        <ol class="timeline" aria-label="Key timeline">
          {LANES.map((lane) => {
            const inLane = keys.data!.filter((key) => key.status === lane.status);
            return (
              <li key={lane.status} class={`lane lane-${lane.status}`}>
                <h2>
                  {lane.title} <span class="muted">({lane.status})</span>
                </h2>
                <p class="muted">{lane.explains}</p>
                {inLane.length === 0 ? (
                  <p class="muted">none</p>
                ) : (
                  <ul class="keys">
                    {inLane.map((key) => (
                      <li key={key.kid} class="key">
                        <p>
                          <code>{key.kid}</code> <span class="badge">{key.alg}</span>
                        </p>
                        {key.api ? (
                          <p>
                            API <code>{key.api}</code>
                          </p>
                        ) : null}
                        <p>
                          created {formatTime(key.created_at)} ({ageOf(key.created_at)} ago)
                        </p>
                        {key.rotated_at ? <p>rotated out {formatTime(key.rotated_at)}</p> : null}
                        {canWrite && key.status === 'published' ? (
                          <button type="button" onClick={() => setRetiring({ key, force: false })}>
                            Retire<span class="visually-hidden"> {key.kid}</span>
                          </button>
                        ) : null}
                      </li>
                    ))}
                  </ul>
                )}
              </li>
            );
          })}
        </ol>
      ) : null}
      {retiring ? (
        <Confirm
          title={retiring.force ? `Retire ${retiring.key.kid} at once?` : `Retire ${retiring.key.kid}?`}
          action={retiring.force ? 'Retire anyway' : 'Retire key'}
          onClose={() => setRetiring(undefined)}
          onConfirm={async () => {
            try {
              await api.send('POST', `/keys/${segment(retiring.key.kid)}/retire`, undefined, retiring.force ? { force: true } : undefined);
            } catch (error) {
              // The server's guard: tokens it signed may be alive. Say so, and offer force.
              if (!retiring.force && error instanceof ProblemError && isLiveTokenGuard(error)) setRetiring({ key: retiring.key, force: true });
              throw error;
            }
            announce(`${retiring.key.kid} retired: it left the JWKS.`);
            setRetiring(undefined);
            keys.reload();
          }}
        >
          {retiring.force ? (
            <p>
              <strong>Tokens this key signed may still be alive: they stop verifying at once.</strong> Retire it anyway?
            </p>
          ) : (
            <p>The key leaves the JWKS: tokens it signed no longer verify. The server refuses while such tokens may still be alive, unless you force it.</p>
          )}
        </Confirm>
      ) : null}
    </>
  );
}
