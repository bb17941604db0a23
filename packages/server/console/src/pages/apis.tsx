import { useState } from 'preact/hooks';
import { segment } from '../api/admin-client.ts';
import type { Api, Grant } from '../api/types.ts';
import { Confirm } from '../components/confirm.tsx';
import { Dialog } from '../components/dialog.tsx';
import { PageHeader } from '../components/page.tsx';
import { Loading, ProblemView } from '../components/problem-view.tsx';
import { SecretOnce } from '../components/secret-once.tsx';
import { useConsole } from '../context.ts';
import { formatDuration, splitScopes } from '../lib/format.ts';
import { LIST_LIMIT, listAll } from '../lib/paging.ts';
import { useAction } from '../lib/use-action.ts';
import { useLoad } from '../lib/use-load.ts';

const ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'HS256'];

export function ApisPage() {
  const { api, can } = useConsole();
  const canRead = can('apis:read');
  const canWrite = can('apis:write');
  const apis = useLoad(() => (canRead ? listAll<Api>(api, '/apis') : Promise.resolve({ items: [], isTruncated: false })));
  const [isCreating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Api>();
  const [editing, setEditing] = useState<Api>();
  const [sharedSecret, setSharedSecret] = useState<{ identifier: string; secret: string }>();
  return (
    <>
      <PageHeader
        title="APIs"
        actions={
          canWrite ? (
            <button type="button" class="primary" onClick={() => setCreating(true)}>
              Create API
            </button>
          ) : null
        }
      >
        Each API is an audience of access tokens, with the scopes clients may be granted.
      </PageHeader>
      {sharedSecret ? (
        <section class="card" aria-label="New shared secret">
          <p>
            The HS256 API <code>{sharedSecret.identifier}</code> was created with this shared secret.
          </p>
          <SecretOnce label="shared secret" value={sharedSecret.secret} />
          <button type="button" onClick={() => setSharedSecret(undefined)}>
            Done
          </button>
        </section>
      ) : null}
      <ProblemView problem={apis.problem} />
      {!canRead ? <p class="muted">This admin client may create APIs but not list them (it lacks apis:read).</p> : null}
      {canRead && !apis.data && apis.isLoading ? <Loading what="APIs" /> : null}
      {canRead && apis.data ? (
        apis.data.items.length === 0 ? (
          <p>No APIs yet.</p>
        ) : (
          <table class="list">
            <caption class="visually-hidden">APIs</caption>
            <thead>
              <tr>
                <th scope="col">API</th>
                <th scope="col">Scopes</th>
                <th scope="col">Tokens</th>
                {canWrite ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {apis.data.items.map((item) => (
                <tr key={item.identifier}>
                  <th scope="row">
                    {item.name}
                    <br />
                    <code class="muted">{item.identifier}</code>
                  </th>
                  <td>
                    {item.scopes.length === 0 ? (
                      <span class="muted">none</span>
                    ) : (
                      <ul class="scopes">
                        {item.scopes.map((scope) => (
                          <li key={scope.value} title={scope.description}>
                            <code>{scope.value}</code>
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td>
                    {item.token_format} · {item.signing_alg} · {formatDuration(item.token_ttl_seconds)}
                    {item.require_sender_constrained ? ' · DPoP only' : ''}
                  </td>
                  {canWrite ? (
                    <td>
                      {item.identifier.startsWith('urn:m2m-auth:') ? (
                        <span class="muted">built in</span>
                      ) : (
                        <div class="buttons">
                          <button type="button" onClick={() => setEditing(item)}>
                            Edit scopes<span class="visually-hidden"> of {item.identifier}</span>
                          </button>
                          <button type="button" class="danger" onClick={() => setDeleting(item)} aria-label={`Delete API ${item.identifier}`}>
                            Delete
                          </button>
                        </div>
                      )}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : null}
      {apis.data?.isTruncated ? <p class="muted">Only the first {LIST_LIMIT} APIs are listed: the CLI lists them all.</p> : null}
      {isCreating ? (
        <CreateApi
          onClose={() => setCreating(false)}
          onCreated={(created, secret) => {
            setCreating(false);
            if (secret) setSharedSecret({ identifier: created.identifier, secret });
            apis.set((data) => ({ ...data, items: [...data.items, created] }));
          }}
        />
      ) : null}
      {editing ? (
        <EditScopes
          target={editing}
          onClose={() => setEditing(undefined)}
          onSaved={(saved) => {
            setEditing(undefined);
            apis.set((data) => ({ ...data, items: data.items.map((item) => (item.identifier === saved.identifier ? saved : item)) }));
          }}
        />
      ) : null}
      {deleting ? (
        <Confirm
          title={`Delete the API ${deleting.name}?`}
          action="Delete API"
          onClose={() => setDeleting(undefined)}
          onConfirm={async () => {
            await api.send('DELETE', `/apis/${segment(deleting.identifier)}`);
            apis.set((data) => ({ ...data, items: data.items.filter((item) => item.identifier !== deleting.identifier) }));
            setDeleting(undefined);
          }}
        >
          <p>
            This deletes <code>{deleting.identifier}</code> and <strong>every grant on it</strong>: no client gets tokens for it any more. Tokens already issued
            stay valid until they expire.
          </p>
          <GrantsOnApi identifier={deleting.identifier} />
        </Confirm>
      ) : null}
    </>
  );
}

/** An API's scope list, edited as text; the scopes kept keep their descriptions. */
function EditScopes({ target, onClose, onSaved }: { target: Api; onClose: () => void; onSaved: (saved: Api) => void }) {
  const { api, announce } = useConsole();
  const action = useAction();
  return (
    <Dialog title={`Scopes of ${target.name}`} onClose={onClose}>
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          const values = splitScopes(String(new FormData(event.currentTarget).get('scopes') ?? ''));
          await action.run(async () => {
            const scopes = values.map((value) => target.scopes.find((scope) => scope.value === value) ?? value);
            const saved = await api.send<Api>('PATCH', `/apis/${segment(target.identifier)}`, { scopes });
            announce(`The scopes of ${saved.identifier} were saved.`);
            onSaved(saved);
          });
        }}
      >
        <label>
          Scopes (separated by spaces)
          <input name="scopes" spellcheck={false} defaultValue={target.scopes.map((scope) => scope.value).join(' ')} />
        </label>
        <ProblemView problem={action.problem} />
        <div class="actions">
          <button type="submit" class="primary" disabled={action.isBusy}>
            Save scopes
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** The grants a delete takes with it, by client (with grants:read). */
function GrantsOnApi({ identifier }: { identifier: string }) {
  const { api, can } = useConsole();
  const grants = useLoad(() =>
    can('grants:read') ? listAll<Grant>(api, '/grants', { api: identifier }).then((list) => list.items) : Promise.resolve(undefined),
  );
  if (grants.problem) return <ProblemView problem={grants.problem} />;
  if (!grants.data) return grants.isLoading && can('grants:read') ? <Loading what="its grants" /> : null;
  if (grants.data.length === 0) return <p>No client holds a grant on it.</p>;
  return (
    <>
      <p>The grants that go with it:</p>
      <ul>
        {grants.data.map((grant) => (
          <li key={grant.id}>
            <code>{grant.client_id}</code>: {grant.scopes.join(' ') || 'no scope'}
          </li>
        ))}
      </ul>
    </>
  );
}

function CreateApi({ onClose, onCreated }: { onClose: () => void; onCreated: (created: Api, sharedSecret: string | undefined) => void }) {
  const { api, announce } = useConsole();
  const action = useAction();
  return (
    <Dialog title="Create an API" onClose={onClose}>
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          const data = new FormData(event.currentTarget);
          const ttl = String(data.get('token_ttl_seconds') ?? '').trim();
          await action.run(async () => {
            const created = await api.send<Api & { shared_secret?: string }>('POST', '/apis', {
              identifier: String(data.get('identifier')).trim(),
              ...(String(data.get('name')).trim() ? { name: String(data.get('name')).trim() } : {}),
              scopes: splitScopes(String(data.get('scopes') ?? '')),
              signing_alg: String(data.get('signing_alg')),
              token_format: String(data.get('token_format')),
              ...(ttl ? { token_ttl_seconds: Number(ttl) } : {}),
            });
            announce(`API ${created.identifier} created.`);
            onCreated(created, created.shared_secret);
          });
        }}
      >
        <label>
          Identifier (the tokens’ audience)
          <input name="identifier" required placeholder="https://orders.example" spellcheck={false} />
        </label>
        <label>
          Name
          <input name="name" />
        </label>
        <label>
          Scopes (separated by spaces)
          <input name="scopes" placeholder="orders:read orders:write" spellcheck={false} />
        </label>
        <div class="row">
          <label>
            Signing algorithm
            <select name="signing_alg">
              {ALGS.map((alg) => (
                <option key={alg}>{alg}</option>
              ))}
            </select>
          </label>
          <label>
            Token format
            <select name="token_format">
              <option value="jwt">JWT (verified offline)</option>
              <option value="opaque">opaque (introspected)</option>
            </select>
          </label>
          <label>
            Token lifetime, seconds
            <input name="token_ttl_seconds" type="number" min="1" inputMode="numeric" placeholder="default" />
          </label>
        </div>
        <ProblemView problem={action.problem} />
        <div class="actions">
          <button type="submit" class="primary" disabled={action.isBusy}>
            Create API
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
