import { useState } from 'preact/hooks';
import { segment } from '../api/admin-client.ts';
import type { Api, Client, Grant } from '../api/types.ts';
import { PageHeader } from '../components/page.tsx';
import { Loading, ProblemView } from '../components/problem-view.tsx';
import { useConsole } from '../context.ts';
import { splitScopes } from '../lib/format.ts';
import { LIST_LIMIT, listAll } from '../lib/paging.ts';
import { useAction } from '../lib/use-action.ts';
import { useLoad } from '../lib/use-load.ts';

/**
 * Grants as a matrix: the clients × the scopes of one API, each cell a checkbox that changes the
 * grant in place. It needs grants:read, apis:read and clients:read to draw; a token with only
 * grants:write gets the form that grants scopes by name.
 */
export function GrantsPage() {
  const { can } = useConsole();
  const canDraw = can('grants:read') && can('apis:read') && can('clients:read');
  return (
    <>
      <PageHeader title="Grants">Which scopes of which API each client may request.</PageHeader>
      {canDraw ? <GrantMatrix /> : null}
      {!canDraw && can('grants:read') ? <GrantList /> : null}
      {can('grants:write') && !canDraw ? <GrantForm /> : null}
    </>
  );
}

interface MatrixData {
  apis: Api[];
  clients: Client[];
  grants: Grant[];
  isTruncated: boolean;
}

function GrantMatrix() {
  const { api, can, announce } = useConsole();
  const loaded = useLoad<MatrixData>(() =>
    Promise.all([listAll<Api>(api, '/apis'), listAll<Client>(api, '/clients'), listAll<Grant>(api, '/grants')]).then(([apis, clients, grants]) => ({
      apis: apis.items,
      clients: clients.items,
      grants: grants.items,
      isTruncated: apis.isTruncated || clients.isTruncated || grants.isTruncated,
    })),
  );
  const [selected, setSelected] = useState<string>();
  /** The cell being changed shows its new state at once; it reverts if the server refuses. */
  const [pending, setPending] = useState<{ key: string; isOn: boolean }>();
  const action = useAction();
  const canWrite = can('grants:write');
  if (loaded.problem) return <ProblemView problem={loaded.problem} />;
  if (!loaded.data) return <Loading what="grants" />;
  const { apis, clients, grants } = loaded.data;
  if (apis.length === 0) return <p>No APIs yet: create one first.</p>;
  // The admin API is last in the choice: granting admin scopes is the rarer, weightier act.
  const choices = [...apis].sort((a, b) => Number(a.identifier.startsWith('urn:m2m-auth:')) - Number(b.identifier.startsWith('urn:m2m-auth:')));
  const current = choices.find((item) => item.identifier === selected) ?? choices[0]!;
  const grantOf = (clientId: string) => grants.find((grant) => grant.client_id === clientId && grant.api === current.identifier);

  async function toggle(client: Client, scope: string, isOn: boolean) {
    setPending({ key: `${client.client_id} ${scope}`, isOn });
    await action.run(async () => {
      const grant = grantOf(client.client_id);
      const scopes = grant ? (isOn ? [...grant.scopes, scope] : grant.scopes.filter((value) => value !== scope)) : [scope];
      let next: Grant | undefined;
      if (!grant) next = await api.send<Grant>('POST', '/grants', { client_id: client.client_id, api: current.identifier, scopes });
      else if (scopes.length === 0) await api.send('DELETE', `/grants/${segment(grant.id)}`);
      else next = await api.send<Grant>('PATCH', `/grants/${segment(grant.id)}`, { scopes });
      loaded.set((data) => ({ ...data, grants: [...data.grants.filter((item) => item.id !== grant?.id), ...(next ? [next] : [])] }));
      announce(`${client.name} ${isOn ? 'may now request' : 'may no longer request'} ${scope} on ${current.identifier}.`);
    });
    setPending(undefined);
  }

  return (
    <section aria-labelledby="matrix-heading">
      <h2 id="matrix-heading">By API</h2>
      <label>
        API
        <select value={current.identifier} onChange={(event) => setSelected(event.currentTarget.value)}>
          {choices.map((item) => (
            <option key={item.identifier} value={item.identifier}>
              {item.name} ({item.identifier})
            </option>
          ))}
        </select>
      </label>
      <ProblemView problem={action.problem} />
      {loaded.data.isTruncated ? <p class="muted">Only the first {LIST_LIMIT} APIs, clients and grants are drawn: the CLI lists them all.</p> : null}
      {current.scopes.length === 0 ? (
        <p>This API has no scopes: a grant on it allows tokens without scopes.</p>
      ) : clients.length === 0 ? (
        <p>No clients yet.</p>
      ) : (
        // A matrix of many scopes scrolls sideways on its own (the page does not): focusable, so keys scroll it.
        <div class="matrix-wrap" tabIndex={0} role="region" aria-label={`Grant matrix of ${current.identifier}`}>
          <table class="matrix">
            <caption>
              Scopes of <code>{current.identifier}</code> granted to each client{canWrite ? ' (check a box to grant, clear it to take back)' : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">Client</th>
                {current.scopes.map((scope) => (
                  <th scope="col" key={scope.value} title={scope.description}>
                    <code>{scope.value}</code>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {clients.map((client) => {
                const grant = grantOf(client.client_id);
                return (
                  <tr key={client.client_id}>
                    <th scope="row">
                      {client.name}
                      <br />
                      <code class="muted">{client.client_id}</code>
                    </th>
                    {current.scopes.map((scope) => {
                      const key = `${client.client_id} ${scope.value}`;
                      const isGranted = pending?.key === key ? pending.isOn : (grant?.scopes.includes(scope.value) ?? false);
                      return (
                        <td key={scope.value} class="cell">
                          <input
                            type="checkbox"
                            checked={isGranted}
                            disabled={!canWrite}
                            aria-label={`${client.name}: ${scope.value}`}
                            // One change at a time (each rewrites the grant's scope list); the box keeps focus meanwhile.
                            onClick={(event) => pending && event.preventDefault()}
                            onChange={(event) => void toggle(client, scope.value, event.currentTarget.checked)}
                          />
                        </td>
                      );
                    })}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** With grants:read but not the APIs and clients to draw the matrix: the grants as a list. */
function GrantList() {
  const { api } = useConsole();
  const grants = useLoad(() => listAll<Grant>(api, '/grants'));
  if (grants.problem) return <ProblemView problem={grants.problem} />;
  if (!grants.data) return <Loading what="grants" />;
  return (
    <table class="list">
      <caption>Grants</caption>
      <thead>
        <tr>
          <th scope="col">Client</th>
          <th scope="col">API</th>
          <th scope="col">Scopes</th>
        </tr>
      </thead>
      <tbody>
        {grants.data.items.map((grant) => (
          <tr key={grant.id}>
            <td>
              <code>{grant.client_id}</code>
            </td>
            <td>
              <code>{grant.api}</code>
            </td>
            <td>{grant.scopes.join(' ')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Grant scopes by name: all a grants:write-only token can do (it cannot list clients or APIs). */
function GrantForm() {
  const { api, announce } = useConsole();
  const action = useAction();
  const [done, setDone] = useState<Grant>();
  return (
    <section aria-labelledby="grant-form-heading" class="card">
      <h2 id="grant-form-heading">Grant scopes</h2>
      <p class="muted">Allows a client to request scopes of an API. If the client already holds a grant on that API, change it in the matrix.</p>
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          const form = event.currentTarget;
          const data = new FormData(form);
          setDone(undefined);
          await action.run(async () => {
            const grant = await api.send<Grant>('POST', '/grants', {
              client_id: String(data.get('client_id')).trim(),
              api: String(data.get('api')).trim(),
              scopes: splitScopes(String(data.get('scopes') ?? '')),
            });
            setDone(grant);
            announce(`Granted ${grant.scopes.join(' ') || 'no scope'} on ${grant.api} to ${grant.client_id}.`);
            form.reset();
          });
        }}
      >
        <div class="row">
          <label>
            Client id
            <input name="client_id" required spellcheck={false} />
          </label>
          <label>
            API identifier
            <input name="api" required spellcheck={false} placeholder="https://orders.example" />
          </label>
          <label>
            Scopes (separated by spaces)
            <input name="scopes" spellcheck={false} />
          </label>
        </div>
        <ProblemView problem={action.problem} />
        {done ? (
          <p class="notice" role="status">
            Granted <code>{done.scopes.join(' ') || '(no scope)'}</code> on <code>{done.api}</code> to <code>{done.client_id}</code>.
          </p>
        ) : null}
        <button type="submit" class="primary" disabled={action.isBusy}>
          Grant
        </button>
      </form>
    </section>
  );
}
