import type { ApiRecord, ExchangePolicyRecord, RegistryStores } from '../storage/types.js';
import { notFound, validationFailed } from '../errors/admin-error.js';
import { echo } from '../errors/echo.js';
import { generateRecordId } from '../secrets/identifiers.js';
import { ADMIN_API_IDENTIFIER, isReservedIdentifier } from './built-in-admin-api.js';
import { asAdminErrors, requireApi, requireClient, requireTrustedIssuer, type AdminContext, type RecordAudit } from './admin-context.js';
import { validateGrantScopes } from './grants.js';
import { validateDescription } from './validation.js';
import { pageOf, type ListOptions, type Page } from './paging.js';
import { exchangePolicyResource } from './resources/exchange-policy.js';

import type { AddExchangePolicyInput, ExchangePolicyFilter } from './resources/exchange-policy.js';

export type { AddExchangePolicyInput, ExchangePolicyFilter } from './resources/exchange-policy.js';

/** The subject that stands for every client of this server. */
export const ANY_SUBJECT_CLIENT = '*';

/**
 * Token-exchange policies (RFC 8693): nothing is exchangeable until one says which client may
 * exchange whose tokens for which API. A policy confers no scope — the exchanging client needs its
 * own grant on the API, and the exchanged token carries no more than the subject token, the grant
 * and the policy all allow — and no policy targets the admin API.
 */
export interface ExchangePolicyOperations {
  addExchangePolicy(input: AddExchangePolicyInput): Promise<ExchangePolicyRecord>;
  /** Oldest first, by exchanging client and/or API. */
  listExchangePolicies(filter?: ExchangePolicyFilter & ListOptions): Promise<Page<ExchangePolicyRecord>>;
  getExchangePolicy(id: string): Promise<ExchangePolicyRecord>;
  /** Exchanges it allowed are refused within the servers' revision check (≤ 1 s); tokens already issued live on. */
  removeExchangePolicy(id: string): Promise<void>;
}

/** The writes behind the operations, each with its audit event, for a caller that holds a transaction (apply). */
export interface ExchangePolicyWrites {
  addExchangePolicy(tx: RegistryStores, audit: RecordAudit, input: AddExchangePolicyInput): Promise<ExchangePolicyRecord>;
  removeExchangePolicy(tx: RegistryStores, audit: RecordAudit, id: string): Promise<void>;
}

export function createExchangePolicyWrites({ deps }: AdminContext): ExchangePolicyWrites {
  return {
    async addExchangePolicy(tx, audit, input) {
      refuseAdminTarget(input.apiIdentifier);
      await requireClient(tx, input.clientId);
      const api = await requireApi(tx, input.apiIdentifier);
      const subject = await validateSubject(tx, input);
      const record: ExchangePolicyRecord = {
        id: generateRecordId('xp'),
        clientId: input.clientId,
        ...subject,
        apiIdentifier: api.identifier,
        scopes: input.scopes === undefined ? null : validateScopeCeiling(api, input.scopes),
        description: validateDescription(input.description ?? ''),
        createdAt: deps.now(),
      };
      await asAdminErrors(
        () => tx.addExchangePolicy(record),
        `Client ${record.clientId} already has an exchange policy for the tokens of ${subjectLabel(record)} on ${api.identifier}: remove it first to change it`,
      );
      await audit('exchange_policy.added', { policyId: record.id, after: exchangePolicyResource.toWire(record) });
      return record;
    },

    async removeExchangePolicy(tx, audit, id) {
      const before = await requireExchangePolicy(tx, id);
      await tx.deleteExchangePolicy(id);
      await audit('exchange_policy.removed', { policyId: id, before: exchangePolicyResource.toWire(before) });
    },
  };
}

export function createExchangePolicyOperations({ deps, write }: AdminContext, writes: ExchangePolicyWrites): ExchangePolicyOperations {
  const { storage } = deps;
  return {
    addExchangePolicy: (input) => write((tx, audit) => writes.addExchangePolicy(tx, audit, input)),
    listExchangePolicies: (options = {}) =>
      pageOf(
        options,
        (policy) => policy.id,
        (page) =>
          storage.listExchangePolicies({
            ...(options.clientId !== undefined ? { clientId: options.clientId } : {}),
            ...(options.apiIdentifier !== undefined ? { apiIdentifier: options.apiIdentifier } : {}),
            ...page,
          }),
      ),
    getExchangePolicy: (id) => requireExchangePolicy(storage, id),
    removeExchangePolicy: (id) => write((tx, audit) => writes.removeExchangePolicy(tx, audit, id)),
  };
}

/**
 * The admin API's tokens are never obtained by exchange: an admin token names the admin client
 * that acts, and a delegated one would let whoever holds a subject's token act as an operator.
 * Refused before anything is read, so the answer is the same whether or not the API exists.
 */
export const isAdminTarget = (apiIdentifier: string) => apiIdentifier === ADMIN_API_IDENTIFIER || isReservedIdentifier(apiIdentifier);
export const ADMIN_TARGET_REFUSAL = `tokens of ${ADMIN_API_IDENTIFIER} are never obtained by token exchange: an admin client gets its own with the client credentials grant`;

function refuseAdminTarget(apiIdentifier: string): void {
  if (isAdminTarget(apiIdentifier)) throw validationFailed('api', ADMIN_TARGET_REFUSAL);
}

/** Exactly one subject: a client of this server (or `*`), or a trusted issuer. */
async function validateSubject(
  tx: Pick<RegistryStores, 'getClient' | 'getTrustedIssuer'>,
  input: Pick<AddExchangePolicyInput, 'subjectClientId' | 'subjectIssuer'>,
): Promise<Pick<ExchangePolicyRecord, 'subjectClientId' | 'subjectIssuer'>> {
  const { subjectClientId, subjectIssuer } = input;
  if ((subjectClientId === undefined) === (subjectIssuer === undefined)) {
    throw validationFailed(
      'subject_client_id',
      'a policy names exactly one subject: subject_client_id (a client id, or * for any client) or subject_issuer (a trusted issuer)',
    );
  }
  if (subjectIssuer !== undefined) return { subjectClientId: null, subjectIssuer: (await requireTrustedIssuer(tx, subjectIssuer)).issuer };
  if (subjectClientId !== ANY_SUBJECT_CLIENT && !(await tx.getClient(subjectClientId!))) {
    throw notFound(`No client with id ${echo(subjectClientId!)} (subject_client_id): name an existing client, or * for any`);
  }
  return { subjectClientId: subjectClientId!, subjectIssuer: null };
}

/** A ceiling names scopes of the API, at least one (leave it out for no ceiling). */
export function validateScopeCeiling(api: Pick<ApiRecord, 'identifier' | 'scopes'>, scopes: unknown): string[] {
  const valid = validateGrantScopes(api, scopes);
  if (valid.length === 0) throw validationFailed('scopes', 'scopes must name at least one scope of the API; leave it out for no ceiling');
  return valid;
}

async function requireExchangePolicy(store: Pick<RegistryStores, 'getExchangePolicy'>, id: string): Promise<ExchangePolicyRecord> {
  const policy = await store.getExchangePolicy(id);
  if (!policy) throw notFound(`No exchange policy with id ${echo(id)}`);
  return policy;
}

const subjectLabel = (policy: Pick<ExchangePolicyRecord, 'subjectClientId' | 'subjectIssuer'>) =>
  policy.subjectIssuer !== null
    ? `trusted issuer ${policy.subjectIssuer}`
    : policy.subjectClientId === ANY_SUBJECT_CLIENT
      ? 'any client'
      : `client ${policy.subjectClientId}`;
