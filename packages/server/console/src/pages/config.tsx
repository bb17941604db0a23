import { useId, useState } from 'preact/hooks';
import { ProblemError } from '../api/problem.ts';
import type { ApplyResult, PlanChange } from '../api/types.ts';
import { CONFIG_READ_SCOPES, CONFIG_WRITE_SCOPES, hasAll } from '../auth/permissions.ts';
import { PageHeader } from '../components/page.tsx';
import { ProblemView } from '../components/problem-view.tsx';
import { SecretOnce } from '../components/secret-once.tsx';
import { useConsole } from '../context.ts';
import { formatValue } from '../lib/format.ts';
import { useAction } from '../lib/use-action.ts';

/**
 * Config as code: a document (JSON or YAML, as `m2m-auth export` writes it) planned by the server
 * (dry run), shown as a diff, then applied in one transaction. What is applied is exactly what was
 * planned: editing the document after the plan asks for a new plan.
 */
export function ConfigPage() {
  const { api, can, announce } = useConsole();
  const canExport = hasAll(can, CONFIG_READ_SCOPES);
  const canApply = hasAll(can, CONFIG_WRITE_SCOPES);
  const [text, setText] = useState('');
  const [prune, setPrune] = useState(false);
  const [planned, setPlanned] = useState<{ document: unknown; prune: boolean; result: ApplyResult }>();
  const [applied, setApplied] = useState<ApplyResult>();
  const action = useAction();

  const edit = (next: string) => {
    setText(next);
    setPlanned(undefined);
  };

  return (
    <>
      <PageHeader title="Config as code">
        Paste or upload a configuration document (JSON or YAML, as <code>m2m-auth export</code> writes it), see the plan, then apply it in one transaction.
      </PageHeader>
      <div class="card">
        <div class="actions">
          {canExport ? (
            <button
              type="button"
              disabled={action.isBusy}
              onClick={() =>
                action.run(async () => {
                  edit(JSON.stringify(await api.get('/config'), null, 2));
                  announce('The server’s current configuration was loaded into the editor.');
                })
              }
            >
              Load the server’s configuration
            </button>
          ) : null}
          <label class="file">
            Upload a document
            <input
              type="file"
              accept=".json,.yaml,.yml,application/json,application/yaml,text/yaml"
              onChange={async (event) => {
                const file = event.currentTarget.files?.[0];
                if (file) edit(await file.text());
              }}
            />
          </label>
        </div>
        <label>
          Document
          <textarea rows={16} class="mono" spellcheck={false} value={text} onInput={(event) => edit(event.currentTarget.value)} />
        </label>
        {canApply ? (
          <>
            <label class="check">
              <input
                type="checkbox"
                checked={prune}
                onChange={(event) => {
                  setPrune(event.currentTarget.checked);
                  setPlanned(undefined);
                }}
              />{' '}
              Prune: delete what the document does not list
            </label>
            <div class="actions">
              <button
                type="button"
                class="primary"
                disabled={!text.trim() || action.isBusy}
                onClick={() =>
                  action.run(async () => {
                    setApplied(undefined);
                    const document = await parseDocument(text);
                    const result = await api.send<ApplyResult>('POST', '/config/apply', document, { dry_run: true, prune: prune || undefined });
                    setPlanned({ document, prune, result });
                  })
                }
              >
                Plan
              </button>
              <button
                type="button"
                class="danger"
                disabled={!planned || planned.result.plan.changes.length === 0 || action.isBusy}
                onClick={() =>
                  action.run(async () => {
                    const result = await api.send<ApplyResult>('POST', '/config/apply', planned!.document, { prune: planned!.prune || undefined });
                    setApplied(result);
                    setPlanned(undefined);
                    announce(`Applied ${result.plan.changes.length} changes.`);
                  })
                }
              >
                Apply the plan
              </button>
            </div>
          </>
        ) : (
          <p class="muted">This admin client may export but not apply (applying needs apis:write, clients:write and grants:write).</p>
        )}
      </div>
      <ProblemView problem={action.problem} />
      {planned ? <Plan title="Plan (nothing changed yet)" result={planned.result} /> : null}
      {applied ? (
        <>
          <Plan title="Applied" result={applied} />
          {applied.created_secrets.map((secret) =>
            secret.resource === 'client' ? (
              <section class="card" key={secret.client_id} aria-label={`Secret of ${secret.name}`}>
                <p>
                  Client <strong>{secret.name}</strong> (<code>{secret.client_id}</code>)
                </p>
                <SecretOnce label="client secret" value={secret.client_secret} />
              </section>
            ) : (
              <section class="card" key={secret.identifier} aria-label={`Shared secret of ${secret.identifier}`}>
                <p>
                  API <code>{secret.identifier}</code>
                </p>
                <SecretOnce label="shared secret" value={secret.shared_secret} />
              </section>
            ),
          )}
        </>
      ) : null}
    </>
  );
}

async function parseDocument(text: string): Promise<unknown> {
  try {
    return JSON.parse(text);
  } catch {
    // Not JSON: YAML, whose parser is loaded only when a YAML document is planned.
    const { parse } = await import('yaml');
    try {
      return parse(text);
    } catch (error) {
      throw new ProblemError(0, 'The document is neither JSON nor YAML', error instanceof Error ? error.message : undefined);
    }
  }
}

function Plan({ title, result }: { title: string; result: ApplyResult }) {
  const { changes, kept } = result.plan;
  const headingId = useId();
  return (
    <section class="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{title}</h2>
      {changes.length === 0 ? <p>No change: the server already matches the document.</p> : null}
      <ol class="plan">
        {changes.map((change, index) => (
          <li key={index} class={`change ${change.action}`}>
            <p>
              <span class={`badge ${change.action}`}>{change.action}</span> {change.resource.replace(/_/g, ' ')} <code>{change.key}</code>
            </p>
            <ChangeDiff change={change} />
          </li>
        ))}
      </ol>
      {kept.length > 0 ? (
        <details>
          <summary>{kept.length} kept (not in the document; prune would delete them)</summary>
          <ul>
            {kept.map((entry) => (
              <li key={`${entry.resource} ${entry.key}`}>
                {entry.resource.replace(/_/g, ' ')} <code>{entry.key}</code>
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </section>
  );
}

function ChangeDiff({ change }: { change: PlanChange }) {
  const rows: [string, unknown, unknown][] = change.changes
    ? Object.entries(change.changes).map(([field, pair]) => [field, pair.before, pair.after])
    : change.after
      ? Object.entries(change.after).map(([field, value]) => [field, undefined, value])
      : [];
  if (rows.length === 0) return null;
  return (
    <table class="diff">
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Before</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([field, before, after]) => (
          <tr key={field}>
            <th scope="row">
              <code>{field}</code>
            </th>
            <td class="before">
              <pre>{change.action === 'create' ? '' : formatValue(before)}</pre>
            </td>
            <td class="after">
              <pre>{formatValue(after)}</pre>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
