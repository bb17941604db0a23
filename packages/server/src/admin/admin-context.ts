import type { ApiRecord, ClientRecord, RegistryStores, Storage, TrustedIssuerRecord } from '../storage/types.js';
import type { UsageCounterStore } from '../state/types.js';
import { StorageConflictError, StorageReferenceError } from '../storage/types.js';
import { AdminError, notFound } from '../errors/admin-error.js';
import { generateRecordId } from '../secrets/identifiers.js';
import { echo } from '../errors/echo.js';
import type { OverviewSources } from './overview-sources.js';
import type { TokenInspection } from '../tokens/inspect-token.js';

export interface AdminDeps {
  storage: Storage;
  kek: Buffer;
  secretPepper: Buffer;
  now: () => number;
  /** Recorded in the audit log: `cli`, `server`, or the admin client's id for the admin API. */
  actor: string;
  /**
   * The admin client calling through the admin API, with the admin scopes its token carries: what
   * it may confer (see admin-authority.ts). Undefined for the local operator (CLI, the server
   * itself), who owns the database and may do anything.
   */
  caller?: AdminCaller;
  /** Longest lifetime of an admin token (default ADMIN_TOKEN_TTL_SECONDS; a server may lower it). */
  adminTokenMaxTtlSeconds?: number;
  /** Where usage counts are read (the shared state); without it `readUsage` answers unavailable. */
  usage?: Pick<UsageCounterStore, 'readUsage'>;
  /** What the overview reads beside storage (a running server provides it); without it `readOverview` answers unavailable. */
  overview?: OverviewSources;
  /** Reads a token as the server's endpoints would (tokens/inspect-token.ts, bound to the key ring and shared state); without it `inspectToken` answers unavailable. */
  inspectToken?: (token: string) => Promise<TokenInspection>;
  /** Called after every committed write, so in-process caches drop stale entries before it returns. */
  onChange?: () => void | Promise<void>;
}

export interface AdminCaller {
  clientId: string;
  scopes: ReadonlySet<string>;
}

/** What an operation records about itself: never a secret, never a token. */
export type RecordAudit = (type: string, data: Record<string, unknown>) => Promise<void>;

export interface AdminContext {
  deps: AdminDeps;
  /**
   * Runs a write operation in one storage transaction together with its audit event(s): a crash
   * half-way leaves neither the change nor its audit record.
   */
  write<T>(work: (tx: RegistryStores, audit: RecordAudit) => Promise<T>): Promise<T>;
}

export function createAdminContext(deps: AdminDeps): AdminContext {
  return {
    deps,
    async write(work) {
      const result = await deps.storage.transaction((tx) =>
        work(tx, (type, data) => {
          const at = deps.now();
          return tx.appendAuditEvent({ id: auditEventId(at), at, type, actor: deps.actor, data });
        }),
      );
      await deps.onChange?.();
      return result;
    },
  };
}

let eventSequence = 0;

/**
 * Audit ids sort in the order events were recorded, even within one millisecond (the log pages by
 * time, then id): the time, a per-process sequence, then randomness against other processes.
 */
export function auditEventId(at: number): string {
  eventSequence = (eventSequence + 1) % 36 ** 4;
  return `evt_${at.toString(36).padStart(9, '0')}${eventSequence.toString(36).padStart(4, '0')}${generateRecordId('').slice(1, 7)}`;
}

export async function requireApi(store: Pick<RegistryStores, 'getApi'>, identifier: string): Promise<ApiRecord> {
  const api = await store.getApi(identifier);
  if (!api) throw notFound(`No API with identifier ${echo(identifier)}`);
  return api;
}

export async function requireClient(store: Pick<RegistryStores, 'getClient'>, clientId: string): Promise<ClientRecord> {
  const client = await store.getClient(clientId);
  if (!client) throw notFound(`No client with id ${echo(clientId)}`);
  return client;
}

export async function requireTrustedIssuer(store: Pick<RegistryStores, 'getTrustedIssuer'>, issuer: string): Promise<TrustedIssuerRecord> {
  const found = await store.getTrustedIssuer(issuer);
  if (!found) throw notFound(`No trusted issuer ${echo(issuer)}`);
  return found;
}

/** Storage's typed failures as the operator-facing errors every front end shows. */
export async function asAdminErrors<T>(write: () => Promise<T>, conflictMessage: string): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof StorageConflictError) throw new AdminError('conflict', conflictMessage);
    if (error instanceof StorageReferenceError) throw notFound(`No ${error.entity} ${echo(error.key)}`);
    throw error;
  }
}

/**
 * The audit trail of an update: each changed field with its value before and after, in the
 * external (snake_case) shape operators see everywhere else.
 */
export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, { before: unknown; after: unknown }> {
  const changes: Record<string, { before: unknown; after: unknown }> = {};
  for (const field of Object.keys(after)) {
    if (field === 'updated_at' || field === 'created_at') continue;
    if (canonicalJson(before[field]) !== canonicalJson(after[field])) changes[field] = { before: before[field], after: after[field] };
  }
  return changes;
}

/**
 * JSON text in which an object's members are in one order: two values that differ only in member
 * order (a JWK or claim conditions as PostgreSQL's jsonb returns them, and as a document lists
 * them) are no change. Lists keep their order: in scopes or audiences it is the operator's.
 */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, member: unknown) =>
    member && typeof member === 'object' && !Array.isArray(member)
      ? Object.fromEntries(Object.entries(member as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : member,
  );
}
