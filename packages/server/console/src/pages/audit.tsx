import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import type { AuditEvent, Page } from '../api/types.ts';
import type { Query } from '../api/admin-client.ts';
import { PageHeader } from '../components/page.tsx';
import { Loading, ProblemView } from '../components/problem-view.tsx';
import { useConsole } from '../context.ts';
import { formatTime, formatValue } from '../lib/format.ts';
import { useAction } from '../lib/use-action.ts';
import { useLoad } from '../lib/use-load.ts';

const PAGE_SIZE = 50;

interface Filter {
  type: string;
  actor: string;
  since: string;
  until: string;
}

/** `<input type="datetime-local">` is local time; the API takes ISO 8601 in UTC. */
const toIso = (local: string) => (local ? new Date(local).toISOString() : undefined);

export function AuditPage() {
  const { api } = useConsole();
  const [filter, setFilter] = useState<Filter>({ type: '', actor: '', since: '', until: '' });
  const query: Query = { type: filter.type || undefined, actor: filter.actor || undefined, since: toIso(filter.since), until: toIso(filter.until) };
  const events = useLoad(() => api.get<Page<AuditEvent>>('/audit-events', { ...query, limit: PAGE_SIZE }), [filter]);
  const more = useAction();
  const [open, setOpen] = useState<string>();

  return (
    <>
      <PageHeader title="Audit log">Every change made through the admin API, the CLI or a configuration apply, newest first.</PageHeader>
      <form
        class="card filters"
        aria-label="Filter the audit log"
        onSubmit={(event) => {
          event.preventDefault();
          const data = new FormData(event.currentTarget);
          setFilter({ type: text(data, 'type'), actor: text(data, 'actor'), since: text(data, 'since'), until: text(data, 'until') });
        }}
      >
        <label>
          Type
          <input name="type" placeholder="client.created" spellcheck={false} defaultValue={filter.type} />
        </label>
        <label>
          Actor (admin client id, or cli)
          <input name="actor" spellcheck={false} defaultValue={filter.actor} />
        </label>
        <label>
          From (your local time)
          <input name="since" type="datetime-local" step="1" defaultValue={filter.since} />
        </label>
        <label>
          Until
          <input name="until" type="datetime-local" step="1" defaultValue={filter.until} />
        </label>
        <button type="submit" class="primary">
          Filter
        </button>
      </form>
      <ProblemView problem={events.problem ?? more.problem} />
      {!events.data && events.isLoading ? <Loading what="the audit log" /> : null}
      {events.data ? (
        events.data.items.length === 0 ? (
          <p>No event matches.</p>
        ) : (
          <table class="list audit">
            <caption class="visually-hidden">Audit events</caption>
            <thead>
              <tr>
                <th scope="col">When (UTC)</th>
                <th scope="col">Event</th>
                <th scope="col">Actor</th>
                <th scope="col">Subject</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {events.data.items.map((event) => (
                <Fragment key={event.id}>
                  <tr>
                    <td>{formatTime(event.at)}</td>
                    <td>
                      <code>{event.type}</code>
                    </td>
                    <td>
                      <code>{event.actor}</code>
                    </td>
                    <td>{subjectOf(event)}</td>
                    <td>
                      <button
                        type="button"
                        aria-expanded={open === event.id}
                        aria-controls={`event-${event.id}`}
                        onClick={() => setOpen(open === event.id ? undefined : event.id)}
                      >
                        {open === event.id ? 'Hide' : 'Show'}
                        <span class="visually-hidden"> {event.type} details</span>
                      </button>
                    </td>
                  </tr>
                  {open === event.id ? (
                    <tr id={`event-${event.id}`}>
                      <td colSpan={5}>
                        <EventDetails event={event} />
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              ))}
            </tbody>
          </table>
        )
      ) : null}
      {events.data?.next_cursor ? (
        <button
          type="button"
          disabled={more.isBusy}
          onClick={() =>
            more.run(async () => {
              const next = await api.get<Page<AuditEvent>>('/audit-events', { ...query, limit: PAGE_SIZE, cursor: events.data!.next_cursor! });
              events.set((data) => ({ items: [...data.items, ...next.items], next_cursor: next.next_cursor ?? null }));
            })
          }
        >
          Older events
        </button>
      ) : null}
    </>
  );
}

const text = (data: FormData, name: string) => String(data.get(name) ?? '').trim();

/** What the event is about: the name of what it changed when it has one, else its id (client id, identifier, kid, …). */
function subjectOf(event: AuditEvent): string {
  const sources = [asRecord(event.data.after), asRecord(event.data.before), event.data];
  const name = sources.map((source) => source.name).find((value) => typeof value === 'string');
  for (const source of sources) {
    for (const field of ['clientId', 'client_id', 'identifier', 'kid', 'issuer', 'grantId', 'id']) {
      const value = source[field];
      if (typeof value === 'string') return name && name !== value ? `${name} (${value})` : value;
    }
  }
  return typeof name === 'string' ? name : '';
}

type Changes = Record<string, { before: unknown; after: unknown }>;

const isChanges = (value: unknown): value is Changes =>
  typeof value === 'object' &&
  value !== null &&
  Object.values(value).every((entry) => typeof entry === 'object' && entry !== null && 'before' in entry && 'after' in entry);

/** An update's `data.changes` (or a `before`/`after` pair) side by side; anything else as it is. */
function EventDetails({ event }: { event: AuditEvent }) {
  const { changes, before, after, ...rest } = event.data;
  const pairs: Changes | undefined = isChanges(changes)
    ? changes
    : before !== undefined || after !== undefined
      ? Object.fromEntries(
          [...new Set([...Object.keys(asRecord(before)), ...Object.keys(asRecord(after))])].map((field) => [
            field,
            { before: asRecord(before)[field], after: asRecord(after)[field] },
          ]),
        )
      : undefined;
  return (
    <div class="details">
      {pairs ? (
        <table class="diff">
          <caption>Changes</caption>
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Before</th>
              <th scope="col">After</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(pairs).map(([field, pair]) => (
              <tr key={field}>
                <th scope="row">
                  <code>{field}</code>
                </th>
                <td class="before">
                  <pre>{formatValue(pair.before)}</pre>
                </td>
                <td class="after">
                  <pre>{formatValue(pair.after)}</pre>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {Object.keys(rest).length > 0 ? <pre class="json">{JSON.stringify(rest, null, 2)}</pre> : null}
    </div>
  );
}

const asRecord = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {});
