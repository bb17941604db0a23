import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { segment } from '../api/admin-client.ts';
import type { Api, Client, CreatedClient, FederatedCredential, Grant, SecretSummary } from '../api/types.ts';
import { Confirm } from '../components/confirm.tsx';
import { Dialog } from '../components/dialog.tsx';
import { PageHeader } from '../components/page.tsx';
import { Loading, ProblemView } from '../components/problem-view.tsx';
import { SecretOnce } from '../components/secret-once.tsx';
import { useConsole } from '../context.ts';
import { formatTime } from '../lib/format.ts';
import { LIST_LIMIT, listAll } from '../lib/paging.ts';
import { useAction } from '../lib/use-action.ts';
import { useLoad } from '../lib/use-load.ts';

export function ClientsPage() {
  const { api, can, announce } = useConsole();
  const canRead = can('clients:read');
  const canWrite = can('clients:write');
  const clients = useLoad(() => (canRead ? listAll<Client>(api, '/clients') : Promise.resolve({ items: [], isTruncated: false })));
  const [isCreating, setCreating] = useState(false);
  const [shown, setShown] = useState<{ clientId: string; name: string; secret: string }>();
  const [open, setOpen] = useState<string>();
  const [deleting, setDeleting] = useState<Client>();
  const toggle = useAction();

  const replace = (next: Client) => clients.set((data) => ({ ...data, items: data.items.map((item) => (item.client_id === next.client_id ? next : item)) }));
  return (
    <>
      <PageHeader
        title="Clients"
        actions={
          canWrite ? (
            <button type="button" class="primary" onClick={() => setCreating(true)}>
              Create client
            </button>
          ) : null
        }
      >
        The services that get tokens: their secrets (hints only), federated credentials and token binding.
      </PageHeader>
      {shown ? (
        <section class="card" aria-labelledby="new-secret-heading">
          <h2 id="new-secret-heading">New secret of {shown.name}</h2>
          <p>
            Client id: <code data-testid="new-client-id">{shown.clientId}</code>
          </p>
          <SecretOnce label="client secret" value={shown.secret} />
          <button type="button" onClick={() => setShown(undefined)}>
            I have copied it
          </button>
        </section>
      ) : null}
      <ProblemView problem={clients.problem ?? toggle.problem} />
      {!canRead ? <p class="muted">This admin client may create clients but not list them (it lacks clients:read).</p> : null}
      {canRead && !clients.data && clients.isLoading ? <Loading what="clients" /> : null}
      {canRead && clients.data ? (
        clients.data.items.length === 0 ? (
          <p>No clients yet.</p>
        ) : (
          <table class="list">
            <caption class="visually-hidden">Clients</caption>
            <thead>
              <tr>
                <th scope="col">Client</th>
                <th scope="col">State</th>
                <th scope="col">Authentication</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {clients.data.items.map((client) => (
                <Fragment key={client.client_id}>
                  <tr>
                    <th scope="row">
                      {client.name}
                      <br />
                      <code class="muted">{client.client_id}</code>
                    </th>
                    <td>
                      <span class={client.enabled ? 'badge ok' : 'badge bad'}>{client.enabled ? 'enabled' : 'disabled'}</span>
                    </td>
                    <td>
                      {client.token_endpoint_auth_methods.join(', ')}
                      {client.dpop_bound_access_tokens ? ' · DPoP-bound tokens' : ''}
                    </td>
                    <td>
                      <div class="buttons">
                        <button
                          type="button"
                          aria-expanded={open === client.client_id}
                          aria-controls={`details-${client.client_id}`}
                          onClick={() => setOpen(open === client.client_id ? undefined : client.client_id)}
                        >
                          {open === client.client_id ? 'Hide details' : 'Details'}
                          <span class="visually-hidden"> of {client.name}</span>
                        </button>
                        {canWrite ? (
                          <>
                            <button
                              type="button"
                              disabled={toggle.isBusy}
                              onClick={() =>
                                toggle.run(async () => {
                                  const next = await api.send<Client>('PATCH', `/clients/${segment(client.client_id)}`, { enabled: !client.enabled });
                                  replace(next);
                                  announce(`${next.name} ${next.enabled ? 'enabled' : 'disabled'}.`);
                                })
                              }
                            >
                              {client.enabled ? 'Disable' : 'Enable'}
                              <span class="visually-hidden"> {client.name}</span>
                            </button>
                            <button type="button" class="danger" onClick={() => setDeleting(client)}>
                              Delete<span class="visually-hidden"> {client.name}</span>
                            </button>
                          </>
                        ) : null}
                      </div>
                    </td>
                  </tr>
                  {open === client.client_id ? (
                    <tr id={`details-${client.client_id}`}>
                      <td colSpan={4}>
                        <ClientDetails client={client} onSecret={(secret) => setShown({ clientId: client.client_id, name: client.name, secret })} />
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              ))}
            </tbody>
          </table>
        )
      ) : null}
      {clients.data?.isTruncated ? <p class="muted">Only the first {LIST_LIMIT} clients are listed: the CLI lists them all.</p> : null}
      {isCreating ? (
        <CreateClient
          onClose={() => setCreating(false)}
          onCreated={(created) => {
            setCreating(false);
            if (created.client_secret) setShown({ clientId: created.client_id, name: created.name, secret: created.client_secret });
            const { client_secret: _secret, ...client } = created;
            clients.set((data) => ({ ...data, items: [...data.items, client] }));
          }}
        />
      ) : null}
      {deleting ? (
        <Confirm
          title={`Delete the client ${deleting.name}?`}
          action="Delete client"
          onClose={() => setDeleting(undefined)}
          onConfirm={async () => {
            await api.send('DELETE', `/clients/${segment(deleting.client_id)}`);
            clients.set((data) => ({ ...data, items: data.items.filter((item) => item.client_id !== deleting.client_id) }));
            announce(`${deleting.name} deleted.`);
            setDeleting(undefined);
          }}
        >
          <WhatGoesWithClient client={deleting} />
        </Confirm>
      ) : null}
    </>
  );
}

/** Names, before a delete, what goes with the client: its secrets, federated credentials and grants (loaded together). */
function WhatGoesWithClient({ client }: { client: Client }) {
  const { api, can } = useConsole();
  const path = `/clients/${segment(client.client_id)}`;
  const parts = useLoad(() =>
    Promise.all([
      api.get<{ items: SecretSummary[] }>(`${path}/secrets`),
      api.get<{ items: FederatedCredential[] }>(`${path}/federated-credentials`),
      can('grants:read') ? listAll<Grant>(api, '/grants', { client_id: client.client_id }) : Promise.resolve(undefined),
    ]),
  );
  const [secrets, credentials, grants] = parts.data ?? [];
  return (
    <>
      <p>
        This deletes <strong>{client.name}</strong> (<code>{client.client_id}</code>) with all that follows: it gets no new token. Tokens it already holds stay
        valid until they expire.
      </p>
      {parts.problem ? <ProblemView problem={parts.problem} /> : null}
      {parts.data ? (
        <ul>
          <li>{count(secrets!.items.length, 'secret')}</li>
          <li>{count(credentials!.items.length, 'federated credential')}</li>
          {grants ? (
            <li>
              {count(grants.items.length, 'grant')}
              {grants.items.length > 0 ? ': ' : ''}
              {grants.items.map((grant) => `${grant.api} (${grant.scopes.join(' ') || 'no scope'})`).join(', ')}
            </li>
          ) : (
            <li>its grants</li>
          )}
        </ul>
      ) : (
        <Loading what="what goes with it" />
      )}
    </>
  );
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** A client's secrets and federated credentials: two requests, sent together. */
function ClientDetails({ client, onSecret }: { client: Client; onSecret: (secret: string) => void }) {
  const { api, can, announce } = useConsole();
  const path = `/clients/${segment(client.client_id)}`;
  const details = useLoad(() =>
    Promise.all([api.get<{ items: SecretSummary[] }>(`${path}/secrets`), api.get<{ items: FederatedCredential[] }>(`${path}/federated-credentials`)]).then(
      ([secrets, credentials]) => ({ secrets: secrets.items, credentials: credentials.items }),
    ),
  );
  const action = useAction();
  const [revoking, setRevoking] = useState<SecretSummary>();
  const canWrite = can('clients:write');
  if (details.problem) return <ProblemView problem={details.problem} />;
  if (!details.data) return <Loading what="secrets" />;
  return (
    <div class="details">
      <dl class="facts">
        <dt>Description</dt>
        <dd>{client.description || '—'}</dd>
        <dt>Default API</dt>
        <dd>{client.default_api ?? '—'}</dd>
        <dt>Token binding</dt>
        <dd>{client.dpop_bound_access_tokens ? 'every token is DPoP-bound (RFC 9449)' : 'bearer tokens (DPoP when the request carries a proof)'}</dd>
        {client.introspect_apis.length > 0 ? (
          <>
            <dt>May introspect</dt>
            <dd>{client.introspect_apis.join(', ')}</dd>
          </>
        ) : null}
      </dl>
      <h2 class="sub">Secrets</h2>
      {details.data.secrets.length === 0 ? (
        <p class="muted">No secret.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Secret</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              {canWrite ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {details.data.secrets.map((secret) => (
              <tr key={secret.id}>
                <td>
                  <code>{secret.hint}</code>
                </td>
                <td>{formatTime(secret.created_at)}</td>
                <td>{secret.expires_at ? formatTime(secret.expires_at) : 'never'}</td>
                <td>{secret.last_used_at ? formatTime(secret.last_used_at) : 'never seen'}</td>
                {canWrite ? (
                  <td>
                    <button type="button" class="danger" onClick={() => setRevoking(secret)}>
                      Revoke<span class="visually-hidden"> secret {secret.hint}</span>
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {revoking ? (
        <Confirm
          title={`Revoke the secret ${revoking.hint} of ${client.name}?`}
          action="Revoke secret"
          onClose={() => setRevoking(undefined)}
          onConfirm={async () => {
            await api.send('DELETE', `${path}/secrets/${segment(revoking.id)}`);
            details.set((data) => ({ ...data, secrets: data.secrets.filter((secret) => secret.id !== revoking.id) }));
            announce(`The secret ${revoking.hint} of ${client.name} was revoked.`);
            setRevoking(undefined);
          }}
        >
          <p>
            It stops working at once: a service still using it gets no new token
            {details.data.secrets.length === 1 ? ', and this is the client’s only secret' : ''}. Tokens already issued stay valid until they expire.
          </p>
        </Confirm>
      ) : null}
      {canWrite ? (
        <p>
          <button
            type="button"
            disabled={action.isBusy}
            onClick={() =>
              action.run(async () => {
                const added = await api.send<{ client_secret: string; secret: SecretSummary }>('POST', `${path}/secrets`, {});
                details.set((data) => ({ ...data, secrets: [...data.secrets, added.secret] }));
                announce('A new secret was added; the others keep working.');
                onSecret(added.client_secret);
              })
            }
          >
            Add a secret
          </button>
        </p>
      ) : null}
      <ProblemView problem={action.problem} />
      <h2 class="sub">Federated credentials</h2>
      {details.data.credentials.length === 0 ? (
        <p class="muted">
          None: this client authenticates with its secrets{client.token_endpoint_auth_methods.includes('private_key_jwt') ? ' or its keys' : ''}.
        </p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Issuer</th>
              <th scope="col">Subject</th>
              <th scope="col">Audiences</th>
            </tr>
          </thead>
          <tbody>
            {details.data.credentials.map((credential) => (
              <tr key={credential.id}>
                <td>
                  <code>{credential.issuer}</code>
                </td>
                <td>
                  <code>{credential.subject}</code> {credential.subject_match === 'prefix' ? '(prefix)' : ''}
                </td>
                <td>{credential.audiences.join(', ') || 'this server'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function CreateClient({ onClose, onCreated }: { onClose: () => void; onCreated: (created: CreatedClient) => void }) {
  const { api, can, announce } = useConsole();
  const apis = useLoad(() => (can('apis:read') ? listAll<Api>(api, '/apis').then((list) => list.items) : Promise.resolve([])));
  const action = useAction();
  return (
    <Dialog title="Create a client" onClose={onClose}>
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          const data = new FormData(event.currentTarget);
          const defaultApi = String(data.get('default_api') ?? '').trim();
          await action.run(async () => {
            const created = await api.send<CreatedClient>('POST', '/clients', {
              name: String(data.get('name')).trim(),
              description: String(data.get('description') ?? '').trim(),
              ...(defaultApi ? { default_api: defaultApi } : {}),
              ...(data.get('dpop') ? { dpop_bound_access_tokens: true } : {}),
            });
            announce(`Client ${created.name} created.`);
            onCreated(created);
          });
        }}
      >
        <label>
          Name
          <input name="name" required />
        </label>
        <label>
          Description
          <input name="description" />
        </label>
        <label>
          Default API (used when a token request names no audience)
          {apis.data && apis.data.length > 0 ? (
            <select name="default_api">
              <option value="">none</option>
              {apis.data.map((item) => (
                <option key={item.identifier} value={item.identifier}>
                  {item.name} ({item.identifier})
                </option>
              ))}
            </select>
          ) : (
            <input name="default_api" spellcheck={false} />
          )}
        </label>
        <label class="check">
          <input type="checkbox" name="dpop" /> Every token DPoP-bound (the client must send a DPoP proof)
        </label>
        <ProblemView problem={action.problem} />
        <div class="actions">
          <button type="submit" class="primary" disabled={action.isBusy}>
            Create client
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
