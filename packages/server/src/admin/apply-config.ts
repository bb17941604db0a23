import type {
  ApiRecord,
  ClientGrantRecord,
  ClientRecord,
  ExchangePolicyRecord,
  FederatedCredentialRecord,
  RegistryStores,
  TrustedIssuerRecord,
} from '../storage/types.js';
import { AdminError, isAdminError } from '../errors/admin-error.js';
import { ensureSigningKey } from '../keys/key-rotation.js';
import { inMemberOrder } from './validation.js';
import { apiResource } from './resources/api.js';
import { quotaToWire } from './resources/common.js';
import { changedFields, type AdminContext, type AdminDeps, type RecordAudit } from './admin-context.js';
import type { ApiWrites } from './apis.js';
import type { ClientWrites } from './clients.js';
import type { GrantWrites } from './grants.js';
import type { TrustedIssuerWrites } from './trusted-issuers.js';
import type { FederatedCredentialWrites } from './federated-credentials.js';
import { ANY_SUBJECT_CLIENT, type ExchangePolicyWrites } from './exchange-policies.js';
import {
  ADMIN_API_IDENTIFIER,
  EXCHANGE_POLICIES_READ_SCOPE,
  EXCHANGE_POLICIES_WRITE_SCOPE,
  INTROSPECTION_WRITE_SCOPE,
  ISSUERS_READ_SCOPE,
  ISSUERS_WRITE_SCOPE,
  builtInAdminApi,
} from './built-in-admin-api.js';
import { adminScopesOf, clientUpdateNeeds, credentialChangeNeeds, grantChangeNeeds, requireCallerScopes, widensIssuerTrust } from './admin-authority.js';
import {
  CONFIG_DOCUMENT_VERSION,
  federatedCredentialKey,
  invalidDocument,
  parseConfigDocument,
  subjectLabel,
  type ClientReference,
  type ConfigApi,
  type ConfigDocument,
  type DesiredClient,
  type DesiredConfig,
  type DesiredExchangePolicy,
  type DesiredFederatedCredential,
  type DesiredTrustedIssuer,
  type FieldError,
} from './config-document.js';

import type { ConfigPlan, CreatedSecret, PlanChange, Resource } from './resources/config-document.js';

export type { ConfigPlan, CreatedSecret, PlanChange, Resource } from './resources/config-document.js';

export interface ApplyConfigOptions {
  /** Only compute the plan. */
  dryRun?: boolean;
  /** Delete the APIs, trusted issuers, clients, federated credentials, grants and exchange policies the document does not list (never the built-in admin API). */
  prune?: boolean;
  /**
   * Let prune delete the calling admin client (or its admin grant), or the last client holding
   * admin scopes. Without it such a plan is refused: one mistaken document must not lock every
   * operator out of the admin API.
   */
  allowAdminDeletion?: boolean;
}

export interface ApplyConfigResult {
  plan: ConfigPlan;
  /** True when the plan's changes were committed (false for a dry run or an empty plan). */
  applied: boolean;
  createdSecrets: CreatedSecret[];
}

export interface ExportConfigOptions {
  /** Also write the built-in admin API (apply accepts it and leaves it alone). */
  includeAdmin?: boolean;
}

export interface ConfigOperations {
  /**
   * APIs, trusted issuers, clients with their federated credentials, grants and exchange policies as
   * one configuration document: never a secret or a secret's hash. An admin client needs
   * issuers:read too when there are trusted issuers to write, exchange-policies:read when there are
   * policies. A policy naming a client that no longer exists matches nothing and is left out.
   */
  exportConfig(options?: ExportConfigOptions): Promise<ConfigDocument>;
  /**
   * Makes the registry match a configuration document: validates it, computes the plan and, unless
   * `dryRun`, applies every change in one transaction (all or nothing), each with its audit event.
   * Input and output are plain JSON, so the CLI and the admin HTTP API pass them through.
   */
  applyConfig(document: unknown, options?: ApplyConfigOptions): Promise<ApplyConfigResult>;
}

type Reader = Pick<RegistryStores, 'listApis' | 'listClients' | 'listGrants' | 'listTrustedIssuers' | 'listFederatedCredentials' | 'listExchangePolicies'>;

/**
 * Creates and updates first, in dependency order; deletes last, children before parents. Federated
 * credentials go before issuers change: one replaced (credentials do not change in place) or
 * pruned is gone before an issuer becomes shared, and a client's limit counts only what stays.
 * Exchange policies do not change in place either: a replaced one is removed before it is added
 * again, and a pruned one before the issuer it names (which refuses removal while named).
 */
const PHASES = [
  'api.create',
  'client.create',
  'credential.delete',
  'policy.delete',
  'issuer.create',
  'credential.create',
  'grant.create',
  'policy.create',
  'grant.delete',
  'client.delete',
  'api.delete',
  'issuer.delete',
] as const;

interface Step {
  change: PlanChange;
  /** The first half of a change another step shows (a replaced federated credential's removal): not a line of the plan. */
  isPart?: boolean;
  /** The document entry the step comes from; absent for deletions. */
  path?: string;
  phase: (typeof PHASES)[number];
  run(tx: RegistryStores, audit: RecordAudit, applied: AppliedState): Promise<void>;
  /** The admin scopes the calling admin client needs for this step (admin-authority.ts). */
  needs?: string[];
  /** A deletion that takes admin scopes away from this client (its admin grant, or itself). */
  removesAdminFrom?: string;
}

interface AppliedState {
  /** Client ids of the document's clients, known once each is matched or created. */
  clientIds: Map<DesiredClient, string>;
  secrets: CreatedSecret[];
}

type Writes = {
  apis: ApiWrites;
  clients: ClientWrites;
  grants: GrantWrites;
  issuers: TrustedIssuerWrites;
  credentials: FederatedCredentialWrites;
  policies: ExchangePolicyWrites;
};

export function createConfigOperations({ deps, write }: AdminContext, writes: Writes): ConfigOperations {
  const { storage } = deps;
  const plan = (reader: Reader, desired: DesiredConfig, options: ApplyConfigOptions) => planChanges(reader, desired, options, writes, deps);

  return {
    async exportConfig(options = {}) {
      const [apis, issuers, clients, grants, credentials, policies] = await Promise.all([
        storage.listApis(),
        storage.listTrustedIssuers(),
        storage.listClients(),
        storage.listGrants(),
        storage.listFederatedCredentials(),
        storage.listExchangePolicies(),
      ]);
      if (issuers.length > 0) requireCallerScopes(deps.caller, [ISSUERS_READ_SCOPE], 'Exporting trusted issuers', 'they are read with their own scope');
      if (policies.length > 0)
        requireCallerScopes(deps.caller, [EXCHANGE_POLICIES_READ_SCOPE], 'Exporting exchange policies', 'they are read with their own scope');
      return exportDocument({ apis, issuers, clients, grants, credentials, policies }, options.includeAdmin === true);
    },

    async applyConfig(document, options = {}) {
      const desired = parseConfigDocument(document);
      // Planned outside a transaction first: a dry run or an empty plan writes nothing.
      const outside = await plan(storage, desired, options);
      if (options.dryRun || outside.steps.length === 0) return { plan: outside.plan, applied: false, createdSecrets: [] };
      return write(async (tx, audit) => {
        // Planned again inside it, so what is applied is exactly what was read.
        const { plan: planned, steps, clientIds } = await plan(tx, desired, options);
        const applied: AppliedState = { clientIds, secrets: [] };
        for (const phase of PHASES) for (const step of steps) if (step.phase === phase) await runAt(step, tx, audit, applied);
        return { plan: planned, applied: steps.length > 0, createdSecrets: applied.secrets };
      });
    },
  };
}

/** What the plan collects: the steps to run, and what it keeps because prune was not asked for. */
interface Planning {
  steps: Step[];
  kept: ConfigPlan['kept'];
  /** A server resource the document does not list: a deletion with prune, kept otherwise. */
  unlisted(resource: Resource, key: string, step: Omit<Step, 'change'>): void;
}

/** Compares the document with the registry: the plan to show, and the steps that carry it out. */
async function planChanges(reader: Reader, desired: DesiredConfig, options: ApplyConfigOptions, writes: Writes, deps: AdminDeps) {
  const prune = options.prune === true;
  const [apis, clients, grants, issuers, credentials, policies] = await Promise.all([
    reader.listApis(),
    reader.listClients(),
    reader.listGrants(),
    reader.listTrustedIssuers(),
    reader.listFederatedCredentials(),
    reader.listExchangePolicies(),
  ]);
  const errors: FieldError[] = [];
  const { matches, clientIds } = matchClients(desired, clients, errors);
  requireFreeNames(desired, clients, matches, prune, errors);
  const planning: Planning = {
    steps: [],
    kept: [],
    unlisted: (resource, key, step) =>
      prune ? planning.steps.push({ ...step, change: { action: 'delete', resource, key } }) : planning.kept.push({ resource, key }),
  };
  planBuiltInApi(planning, desired, apis, errors, deps);
  const adminGrants = new Map(grants.filter((grant) => grant.apiIdentifier === ADMIN_API_IDENTIFIER).map((grant) => [grant.clientId, grant]));
  const clientsById = new Map(clients.map((client) => [client.clientId, client]));
  /** What acting as a server client is worth (admin-authority.ts); a client the apply creates holds nothing yet. */
  const worth = (clientId: string | undefined) => {
    const client = clientId === undefined ? undefined : clientsById.get(clientId);
    return client ? credentialChangeNeeds(client, adminGrants.get(client.clientId)) : [];
  };
  planIssuers(planning, desired, issuers, credentials, worth, errors, writes.issuers);
  if (errors.length > 0) throw invalidDocument(errors);
  planApis(planning, desired, apis, writes.apis);
  planClients(planning, desired, clients, matches, writes.clients, adminGrants);
  planCredentials(planning, desired, credentials, clientIds, clientsById, worth, writes.credentials);
  planGrants(planning, desired, grants, clients, clientIds, writes.grants);
  planExchangePolicies(planning, desired, policies, clientIds, clientsById, writes.policies);
  // The same rules as the writes enforce, checked on the plan too: a dry run says what apply would refuse.
  authorizePlan(planning.steps, deps);
  if (!options.allowAdminDeletion) guardAdminDeletion(planning.steps, desired, adminGrants, deps);
  return { plan: { changes: planning.steps.filter((step) => !step.isPart).map((step) => step.change), kept: planning.kept }, steps: planning.steps, clientIds };
}

function planIssuers(
  planning: Planning,
  desired: DesiredConfig,
  issuers: TrustedIssuerRecord[],
  credentials: FederatedCredentialRecord[],
  worth: (clientId: string) => string[],
  errors: FieldError[],
  writes: TrustedIssuerWrites,
) {
  const byIssuer = new Map(issuers.map((issuer) => [issuer.issuer, issuer]));
  /** Whoever changes an issuer's keys or loosens its checks could act as every client that trusts it, now or after this apply. */
  const trustersNeeds = (issuer: string) => {
    const trusters = credentials.filter((credential) => credential.issuer === issuer).map((credential) => credential.clientId);
    return [...new Set(trusters.flatMap(worth))];
  };
  for (const issuer of desired.trustedIssuers) {
    const existing = byIssuer.get(issuer.issuer);
    const after = issuerFields(issuer);
    if (!existing) {
      planning.steps.push({
        change: { action: 'create', resource: 'trusted_issuer', key: issuer.issuer, after: { issuer: issuer.issuer, ...after } },
        path: issuer.path,
        phase: 'issuer.create',
        needs: [ISSUERS_WRITE_SCOPE],
        run: async (tx, audit) => void (await writes.addTrustedIssuer(tx, audit, issuer)),
      });
      continue;
    }
    if (existing.kind !== issuer.kind) {
      errors.push({
        path: `${issuer.path}.kind`,
        message: `the server's issuer is of kind ${existing.kind}; a kind does not change (remove the issuer and add it again)`,
      });
      continue;
    }
    const changes = changedFields(issuerFields(existing), after);
    if (Object.keys(changes).length === 0) continue;
    planning.steps.push({
      change: { action: 'update', resource: 'trusted_issuer', key: issuer.issuer, changes },
      path: issuer.path,
      phase: 'issuer.create',
      needs: [ISSUERS_WRITE_SCOPE, ...(widensIssuerTrust(existing, issuer) ? trustersNeeds(issuer.issuer) : [])],
      run: async (tx, audit) => void (await writes.updateTrustedIssuer(tx, audit, issuer.issuer, issuerChange(issuer))),
    });
  }
  const listed = new Set(desired.trustedIssuers.map((issuer) => issuer.issuer));
  for (const issuer of issuers) {
    // Its credentials are not in the document either (they could not name it): prune removes them first.
    if (!listed.has(issuer.issuer))
      planning.unlisted('trusted_issuer', issuer.issuer, {
        phase: 'issuer.delete',
        needs: [ISSUERS_WRITE_SCOPE],
        run: (tx, audit) => writes.removeTrustedIssuer(tx, audit, issuer.issuer),
      });
  }
}

/**
 * A client's federated credentials, matched by issuer, subject and subject_match. A credential does
 * not change in place: one whose audiences, claims or description differ is replaced (shown as an
 * update). Each is a credential of its client: it needs what the client's credentials need.
 */
function planCredentials(
  planning: Planning,
  desired: DesiredConfig,
  credentials: FederatedCredentialRecord[],
  clientIds: Map<DesiredClient, string>,
  clientsById: Map<string, ClientRecord>,
  worth: (clientId: string | undefined) => string[],
  writes: FederatedCredentialWrites,
) {
  const onServer = new Map(credentials.map((credential) => [`${credential.clientId}\n${federatedCredentialKey(credential)}`, credential]));
  const matched = new Set<FederatedCredentialRecord>();
  for (const client of desired.clients) {
    const clientId = clientIds.get(client);
    for (const credential of client.federatedCredentials) {
      const existing = clientId === undefined ? undefined : onServer.get(`${clientId}\n${federatedCredentialKey(credential)}`);
      const key = credentialKey(client.name, credential);
      const after = credentialFields(credential);
      const add = async (tx: RegistryStores, audit: RecordAudit, applied: AppliedState) =>
        void (await writes.addFederatedCredential(tx, audit, applied.clientIds.get(client)!, credential));
      if (!existing) {
        planning.steps.push({
          change: {
            action: 'create',
            resource: 'federated_credential',
            key,
            after: { client: client.name, issuer: credential.issuer, subject: credential.subject, ...after },
          },
          path: credential.path,
          phase: 'credential.create',
          needs: worth(clientId),
          run: add,
        });
        continue;
      }
      matched.add(existing);
      const changes = changedFields(credentialFields(existing), after);
      if (Object.keys(changes).length === 0) continue;
      const change: PlanChange = { action: 'update', resource: 'federated_credential', key, changes };
      planning.steps.push(
        {
          change,
          isPart: true,
          path: credential.path,
          phase: 'credential.delete',
          run: (tx, audit) => writes.removeFederatedCredential(tx, audit, existing.clientId, existing.id),
        },
        { change, path: credential.path, phase: 'credential.create', needs: worth(clientId), run: add },
      );
    }
  }
  for (const credential of credentials) {
    if (matched.has(credential)) continue;
    planning.unlisted('federated_credential', credentialKey(clientsById.get(credential.clientId)?.name ?? credential.clientId, credential), {
      phase: 'credential.delete',
      needs: worth(credential.clientId),
      run: (tx, audit) => writes.removeFederatedCredential(tx, audit, credential.clientId, credential.id),
    });
  }
}

function planApis(planning: Planning, desired: DesiredConfig, apis: ApiRecord[], writes: ApiWrites) {
  const apisById = new Map(apis.map((api) => [api.identifier, api]));
  for (const api of desired.apis) {
    const existing = apisById.get(api.identifier);
    const after = apiFields(api);
    // An HS256 API's shared secret is returned by the write that made its key, once.
    const keepSharedSecret = (applied: AppliedState, sharedSecret: string | undefined) => {
      if (sharedSecret) applied.secrets.push({ resource: 'api', identifier: api.identifier, shared_secret: sharedSecret });
    };
    const changes = existing && changedFields(apiFields(existing), after);
    if (changes && Object.keys(changes).length === 0) continue;
    planning.steps.push({
      change: changes
        ? { action: 'update', resource: 'api', key: api.identifier, changes }
        : { action: 'create', resource: 'api', key: api.identifier, after: withoutFalseFlags(after) },
      path: api.path,
      phase: 'api.create',
      run: async (tx, audit, applied) =>
        keepSharedSecret(applied, (await (changes ? writes.updateApi(tx, audit, api.identifier, api) : writes.createApi(tx, audit, api))).sharedSecret),
    });
  }
  const listed = new Set([ADMIN_API_IDENTIFIER, ...desired.apis.map((api) => api.identifier)]);
  for (const api of apis) {
    if (!listed.has(api.identifier))
      planning.unlisted('api', api.identifier, { phase: 'api.delete', run: (tx, audit) => writes.deleteApi(tx, audit, api.identifier) });
  }
}

function planClients(
  planning: Planning,
  desired: DesiredConfig,
  clients: ClientRecord[],
  matches: Map<DesiredClient, ClientRecord>,
  writes: ClientWrites,
  adminGrants: Map<string, ClientGrantRecord>,
) {
  for (const client of desired.clients) {
    const existing = matches.get(client);
    const after = clientFields(client);
    if (!existing) {
      planning.steps.push({
        change: {
          action: 'create',
          resource: 'client',
          key: clientKey(client.name, client.clientId),
          after: { ...(client.clientId ? { client_id: client.clientId } : {}), ...withoutFalseFlags(after) },
        },
        path: client.path,
        phase: 'client.create',
        needs: client.introspectApis.length > 0 ? [INTROSPECTION_WRITE_SCOPE] : [],
        run: async (tx, audit, applied) => {
          const created = await writes.createClient(tx, audit, client, client.clientId ? { clientId: client.clientId } : {});
          applied.clientIds.set(client, created.clientId);
          if (created.clientSecret)
            applied.secrets.push({ resource: 'client', client_id: created.clientId, name: created.client.name, client_secret: created.clientSecret });
        },
      });
      continue;
    }
    const changes = changedFields(clientFields(existing), after);
    if (Object.keys(changes).length === 0) continue;
    planning.steps.push({
      change: { action: 'update', resource: 'client', key: clientKey(existing.name, existing.clientId), changes },
      path: client.path,
      phase: 'client.create',
      needs: clientUpdateNeeds(existing, client, adminGrants.get(existing.clientId)),
      run: async (tx, audit) => void (await writes.updateClient(tx, audit, existing.clientId, client)),
    });
  }
  const matched = new Set([...matches.values()]);
  for (const client of clients) {
    if (matched.has(client)) continue;
    const adminScopes = adminScopesOf(adminGrants.get(client.clientId));
    planning.unlisted('client', clientKey(client.name, client.clientId), {
      phase: 'client.delete',
      needs: adminScopes,
      ...(adminScopes.length > 0 ? { removesAdminFrom: client.clientId } : {}),
      run: (tx, audit) => writes.deleteClient(tx, audit, client.clientId),
    });
  }
}

function planGrants(
  planning: Planning,
  desired: DesiredConfig,
  grants: ClientGrantRecord[],
  clients: ClientRecord[],
  clientIds: Map<DesiredClient, string>,
  writes: GrantWrites,
) {
  const grantsByPair = new Map(grants.map((grant) => [`${grant.clientId} ${grant.apiIdentifier}`, grant]));
  const matched = new Set<ClientGrantRecord>();
  for (const grant of desired.grants) {
    const clientId = clientIds.get(grant.client);
    const existing = clientId === undefined ? undefined : grantsByPair.get(`${clientId} ${grant.api}`);
    const key = grantKey(grant.client.name, grant.api);
    const after = grantFields(grant);
    if (!existing) {
      planning.steps.push({
        change: { action: 'create', resource: 'grant', key, after: { client: grant.client.name, api: grant.api, ...after } },
        path: grant.path,
        phase: 'grant.create',
        needs: grantChangeNeeds({ apiIdentifier: grant.api, scopes: grant.scopes }),
        // A new client's id is known only once the client step ran.
        run: async (tx, audit, applied) =>
          void (await writes.createGrant(tx, audit, {
            clientId: applied.clientIds.get(grant.client)!,
            apiIdentifier: grant.api,
            scopes: grant.scopes,
            tokenTtlSeconds: grant.tokenTtlSeconds,
          })),
      });
      continue;
    }
    matched.add(existing);
    const changes = changedFields(grantFields(existing), after);
    if (Object.keys(changes).length === 0) continue;
    planning.steps.push({
      change: { action: 'update', resource: 'grant', key, changes },
      path: grant.path,
      phase: 'grant.create',
      needs: grantChangeNeeds(existing, { apiIdentifier: existing.apiIdentifier, scopes: grant.scopes }),
      run: async (tx, audit) => void (await writes.updateGrant(tx, audit, existing.id, grant)),
    });
  }
  const names = new Map(clients.map((client) => [client.clientId, client.name]));
  for (const grant of grants) {
    if (matched.has(grant)) continue;
    const adminScopes = adminScopesOf(grant);
    planning.unlisted('grant', grantKey(names.get(grant.clientId) ?? grant.clientId, grant.apiIdentifier), {
      phase: 'grant.delete',
      needs: adminScopes,
      ...(adminScopes.length > 0 ? { removesAdminFrom: grant.clientId } : {}),
      run: (tx, audit) => writes.deleteGrant(tx, audit, grant.id),
    });
  }
}

/**
 * Exchange policies, matched by exchanging client, subject and API. A policy does not change in
 * place: one whose scopes or description differ is replaced (shown as an update).
 */
function planExchangePolicies(
  planning: Planning,
  desired: DesiredConfig,
  policies: ExchangePolicyRecord[],
  clientIds: Map<DesiredClient, string>,
  clientsById: Map<string, ClientRecord>,
  writes: ExchangePolicyWrites,
) {
  const serverKey = (policy: Pick<ExchangePolicyRecord, 'clientId' | 'subjectClientId' | 'subjectIssuer' | 'apiIdentifier'>) =>
    `${policy.clientId}\n${policy.subjectClientId ?? ''}\n${policy.subjectIssuer ?? ''}\n${policy.apiIdentifier}`;
  const onServer = new Map(policies.map((policy) => [serverKey(policy), policy]));
  const matched = new Set<ExchangePolicyRecord>();
  /** The subject client's id: `*`, known once the client is matched or created. */
  const subjectId = (policy: DesiredExchangePolicy, ids: Map<DesiredClient, string>) =>
    policy.subjectClient === undefined ? null : policy.subjectClient === ANY_SUBJECT_CLIENT ? ANY_SUBJECT_CLIENT : ids.get(policy.subjectClient.client);
  const needs = [EXCHANGE_POLICIES_WRITE_SCOPE];
  for (const policy of desired.exchangePolicies) {
    const clientId = clientIds.get(policy.client.client);
    const subjectClientId = subjectId(policy, clientIds);
    const existing =
      clientId === undefined || subjectClientId === undefined
        ? undefined
        : onServer.get(serverKey({ clientId, subjectClientId, subjectIssuer: policy.subjectIssuer ?? null, apiIdentifier: policy.api }));
    const key = policyKey(policy.client.client.name, subjectLabel(policy), policy.api);
    const after = exchangePolicyFields(policy);
    const add = async (tx: RegistryStores, audit: RecordAudit, applied: AppliedState) => {
      const subject = subjectId(policy, applied.clientIds);
      await writes.addExchangePolicy(tx, audit, {
        clientId: applied.clientIds.get(policy.client.client)!,
        ...(subject === null ? { subjectIssuer: policy.subjectIssuer! } : { subjectClientId: subject! }),
        apiIdentifier: policy.api,
        ...(policy.scopes !== null ? { scopes: policy.scopes } : {}),
        description: policy.description,
      });
    };
    if (!existing) {
      planning.steps.push({
        change: {
          action: 'create',
          resource: 'exchange_policy',
          key,
          after: {
            client: policy.client.client.name,
            ...(policy.subjectIssuer !== undefined ? { subject_issuer: policy.subjectIssuer } : { subject_client: subjectLabel(policy) }),
            api: policy.api,
            ...after,
          },
        },
        path: policy.path,
        phase: 'policy.create',
        needs,
        run: add,
      });
      continue;
    }
    matched.add(existing);
    const changes = changedFields(exchangePolicyFields(existing), after);
    if (Object.keys(changes).length === 0) continue;
    const change: PlanChange = { action: 'update', resource: 'exchange_policy', key, changes };
    planning.steps.push(
      { change, isPart: true, path: policy.path, phase: 'policy.delete', needs, run: (tx, audit) => writes.removeExchangePolicy(tx, audit, existing.id) },
      { change, path: policy.path, phase: 'policy.create', needs, run: add },
    );
  }
  const nameOf = (clientId: string) => clientsById.get(clientId)?.name ?? clientId;
  for (const policy of policies) {
    if (matched.has(policy)) continue;
    const subject = policy.subjectIssuer ?? (policy.subjectClientId === ANY_SUBJECT_CLIENT ? ANY_SUBJECT_CLIENT : nameOf(policy.subjectClientId!));
    planning.unlisted('exchange_policy', policyKey(nameOf(policy.clientId), subject, policy.apiIdentifier), {
      phase: 'policy.delete',
      needs,
      run: (tx, audit) => writes.removeExchangePolicy(tx, audit, policy.id),
    });
  }
}

/** One 403 for the whole plan: every admin scope it lacks, and the entries that need them. */
function authorizePlan(steps: Step[], deps: AdminDeps) {
  const { caller } = deps;
  if (!caller) return;
  const refused = steps
    .map((step) => ({ step, missing: (step.needs ?? []).filter((scope) => !caller.scopes.has(scope)) }))
    .filter(({ missing }) => missing.length > 0);
  if (refused.length === 0) return;
  const missing = [...new Set(refused.flatMap((entry) => entry.missing))].sort();
  const lines = refused
    .slice(0, 10)
    .map(({ step, missing }) => `  ${step.path ?? '(prune)'} (${step.change.action} ${step.change.resource} ${step.change.key}): needs ${missing.join(', ')}`);
  if (refused.length > 10) lines.push(`  … and ${refused.length - 10} more`);
  throw new AdminError(
    'insufficient_scope',
    `This apply needs the admin scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')} on ${ADMIN_API_IDENTIFIER}: an admin client cannot confer what it does not hold (nothing was changed):\n${lines.join('\n')}`,
    undefined,
    { required_scopes: missing },
  );
}

/**
 * Prune must not delete the admin client making the call (or its admin grant), nor leave no
 * client holding admin scopes, unless asked to explicitly.
 */
function guardAdminDeletion(steps: Step[], desired: DesiredConfig, adminGrants: Map<string, ClientGrantRecord>, deps: AdminDeps) {
  const losing = new Set(steps.flatMap((step) => (step.removesAdminFrom === undefined ? [] : [step.removesAdminFrom])));
  if (losing.size === 0) return;
  const override = 'pass --allow-delete-admin (CLI) or allow_admin_deletion=true (admin API) if this is intended';
  if (deps.caller && losing.has(deps.caller.clientId)) {
    throw new AdminError(
      'conflict',
      `This apply would delete the calling admin client ${deps.caller.clientId} or its grant on ${ADMIN_API_IDENTIFIER}; nothing was changed: ${override}`,
    );
  }
  const holders = [...adminGrants.values()].filter((grant) => grant.scopes.length > 0).map((grant) => grant.clientId);
  const keeps =
    holders.some((clientId) => !losing.has(clientId)) || desired.grants.some((grant) => grant.api === ADMIN_API_IDENTIFIER && grant.scopes.length > 0);
  if (!keeps)
    throw new AdminError(
      'conflict',
      `This apply would delete the last client holding admin scopes on ${ADMIN_API_IDENTIFIER}; nothing was changed: ${override}`,
    );
}

/** A write refused inside the transaction (the whole apply rolls back) names the entry it came from. */
async function runAt(step: Step, tx: RegistryStores, audit: RecordAudit, applied: AppliedState): Promise<void> {
  try {
    await step.run(tx, audit, applied);
  } catch (error) {
    if (!isAdminError(error) || step.path === undefined) throw error;
    throw new AdminError(
      error.code,
      `${step.path} (${step.change.action} ${step.change.resource} ${step.change.key}): ${error.message}; nothing was changed`,
      step.path,
    );
  }
}

/**
 * Pairs the document's clients with the server's: by client_id when the document gives one, else
 * by name, which must then say which client it is on the server too.
 */
function matchClients(desired: DesiredConfig, clients: ClientRecord[], errors: FieldError[]) {
  const matches = new Map<DesiredClient, ClientRecord>();
  const claimed = new Set<string>();
  const byId = new Map(clients.map((client) => [client.clientId, client]));
  for (const client of desired.clients) {
    const existing = client.clientId === undefined ? undefined : byId.get(client.clientId);
    if (existing) {
      matches.set(client, existing);
      claimed.add(existing.clientId);
    }
  }
  for (const client of desired.clients) {
    if (client.clientId !== undefined) continue;
    const named = clients.filter((candidate) => !claimed.has(candidate.clientId) && candidate.name === client.name);
    if (named.length > 1) {
      errors.push({
        path: `${client.path}.name`,
        message: `${named.length} clients on the server are named ${JSON.stringify(client.name)} (${named.map((c) => c.clientId).join(', ')}); add client_id to say which one`,
      });
    } else if (named[0]) {
      matches.set(client, named[0]);
      claimed.add(named[0].clientId);
    }
  }
  const references: ClientReference[] = [
    ...desired.grants.map((grant) => ({ path: `${grant.path}.client`, client: grant.client, byName: grant.byName })),
    ...desired.exchangePolicies.flatMap((policy) => [policy.client, ...(typeof policy.subjectClient === 'object' ? [policy.subjectClient] : [])]),
  ];
  for (const reference of references) {
    if (!reference.byName) continue;
    const others = clients.filter((candidate) => !claimed.has(candidate.clientId) && candidate.name === reference.client.name);
    if (others.length > 0) {
      errors.push({
        path: reference.path,
        message: `${JSON.stringify(reference.client.name)} also names a client on the server that the document does not list (${others.map((c) => c.clientId).join(', ')}); refer to the client by its client_id`,
      });
    }
  }
  const clientIds = new Map([...matches].map(([client, record]) => [client, record.clientId]));
  return { matches, clientIds };
}

/**
 * Client names are unique (see admin/clients.ts): a name the document gives a client, new or
 * renamed, must not be that of a server client the apply leaves in place (one it does not list,
 * without --prune). Checked on the plan, not write by write, so renames and deletions within one
 * document may free a name for another entry. Names a client already has are left alone.
 */
function requireFreeNames(desired: DesiredConfig, clients: ClientRecord[], matches: Map<DesiredClient, ClientRecord>, prune: boolean, errors: FieldError[]) {
  if (prune) return;
  const matched = new Set(matches.values());
  const staying = clients.filter((client) => !matched.has(client));
  for (const client of desired.clients) {
    if (matches.get(client)?.name === client.name || errors.some((error) => error.path === `${client.path}.name`)) continue;
    const holders = staying.filter((candidate) => candidate.name === client.name);
    if (holders.length === 0) continue;
    errors.push({
      path: `${client.path}.name`,
      message: `${JSON.stringify(client.name)} is the name of ${holders.map((holder) => holder.clientId).join(', ')} on the server, which the document does not list: client names are unique (rename one, or list that client; --prune deletes what the document does not list)`,
    });
  }
}

/**
 * Apply never changes or deletes the built-in admin API. When the document refers to it (admin
 * clients' grants, as export writes them) and it is missing — a new data directory — it is
 * created as bootstrap creates it, so an exported registry restores its admin clients too.
 */
function planBuiltInApi(planning: Planning, desired: DesiredConfig, apis: ApiRecord[], errors: FieldError[], deps: AdminDeps) {
  const existing = apis.find((api) => api.identifier === ADMIN_API_IDENTIFIER);
  const builtIn = existing ?? builtInAdminApi(deps.now());
  const isUsed =
    desired.clients.some((client) => client.defaultApi === ADMIN_API_IDENTIFIER) || desired.grants.some((grant) => grant.api === ADMIN_API_IDENTIFIER);
  if (!existing && isUsed) {
    planning.steps.push({
      change: { action: 'create', resource: 'api', key: ADMIN_API_IDENTIFIER, after: apiFields(builtIn) },
      phase: 'api.create',
      run: async (tx, audit) => {
        const api = builtInAdminApi(deps.now());
        await tx.createApi(api);
        await ensureSigningKey({ keys: tx, kek: deps.kek, now: deps.now }, api.signingAlg, null);
        await audit('api.created', { identifier: api.identifier, after: apiResource.toWire(api) });
      },
    });
  }
  const defined = new Set(builtIn.scopes.map((scope) => scope.value));
  for (const { path, scopes } of desired.referencesBuiltIn) {
    const unknown = scopes.filter((scope) => !defined.has(scope));
    if (unknown.length > 0) errors.push({ path, message: `${unknown.join(', ')} not defined on ${ADMIN_API_IDENTIFIER}` });
  }
}

const clientKey = (name: string, clientId: string | undefined) => `${name} (${clientId ?? 'new'})`;
const grantKey = (client: string, api: string) => `${client} → ${api}`;
const policyKey = (client: string, subject: string, api: string) => `${client} ← ${subject} → ${api}`;
const credentialKey = (client: string, credential: Pick<DesiredFederatedCredential, 'issuer' | 'subject' | 'subjectMatch'>) =>
  `${client} ← ${credential.issuer} ${credential.subject}${credential.subjectMatch === 'prefix' ? ' (prefix)' : ''}`;

/**
 * A resource's fields as the document writes them, from a stored record or a desired entry alike
 * (keys in one member order, so a document reads the same exported from any adapter).
 */
const apiFields = (api: Pick<ApiRecord, 'identifier' | 'name' | 'scopes' | 'signingAlg' | 'tokenTtlSeconds' | 'tokenFormat' | 'requireSenderConstrained'>) => ({
  identifier: api.identifier,
  name: api.name,
  scopes: api.scopes,
  signing_alg: api.signingAlg,
  token_ttl_seconds: api.tokenTtlSeconds,
  token_format: api.tokenFormat,
  require_sender_constrained: api.requireSenderConstrained ?? false,
});

const clientFields = (
  client: Pick<
    ClientRecord,
    | 'name'
    | 'description'
    | 'defaultApi'
    | 'isEnabled'
    | 'tokenEndpointAuthMethods'
    | 'jwks'
    | 'introspectApis'
    | 'dpopBoundAccessTokens'
    | 'tlsClientAuthSanDns'
    | 'tlsClientCertificateBoundAccessTokens'
  > & {
    quota?: ClientRecord['quota'] | null;
    tlsClientAuthSubjectDn?: string | null;
  },
) => ({
  name: client.name,
  description: client.description,
  default_api: client.defaultApi,
  enabled: client.isEnabled,
  token_endpoint_auth_methods: client.tokenEndpointAuthMethods,
  jwks: inMemberOrder(client.jwks),
  introspect_apis: client.introspectApis ?? [],
  quota: quotaToWire(client.quota ?? undefined),
  dpop_bound_access_tokens: client.dpopBoundAccessTokens ?? false,
  tls_client_auth_subject_dn: client.tlsClientAuthSubjectDn ?? null,
  tls_client_auth_san_dns: client.tlsClientAuthSanDns ?? [],
  tls_client_certificate_bound_access_tokens: client.tlsClientCertificateBoundAccessTokens ?? false,
});

/**
 * An exported document (and a plan's new resource) leaves out a sender-constraint or mutual-TLS
 * field at its default, so a registry that uses none reads as before.
 */
function withoutFalseFlags<
  T extends {
    require_sender_constrained?: boolean;
    dpop_bound_access_tokens?: boolean;
    tls_client_auth_subject_dn?: string | null;
    tls_client_auth_san_dns?: string[];
    tls_client_certificate_bound_access_tokens?: boolean;
  },
>(fields: T): T {
  const {
    require_sender_constrained: strict,
    dpop_bound_access_tokens: bound,
    tls_client_auth_subject_dn: subject,
    tls_client_auth_san_dns: dnsNames,
    tls_client_certificate_bound_access_tokens: certificateBound,
    ...rest
  } = fields;
  return {
    ...rest,
    ...(strict ? { require_sender_constrained: true } : {}),
    ...(bound ? { dpop_bound_access_tokens: true } : {}),
    ...(subject ? { tls_client_auth_subject_dn: subject } : {}),
    ...(dnsNames?.length ? { tls_client_auth_san_dns: dnsNames } : {}),
    ...(certificateBound ? { tls_client_certificate_bound_access_tokens: true } : {}),
  } as T;
}

const grantFields = (grant: Pick<ClientGrantRecord, 'scopes' | 'tokenTtlSeconds'>) => ({ scopes: grant.scopes, token_ttl_seconds: grant.tokenTtlSeconds });

const issuerFields = (issuer: Omit<DesiredTrustedIssuer, 'path' | 'issuer'>) => ({
  kind: issuer.kind,
  jwks_uri: issuer.jwksUri,
  jwks: inMemberOrder(issuer.jwks),
  token_reuse: issuer.tokenReuse,
  max_token_lifetime_seconds: issuer.maxTokenLifetimeSeconds,
  shared: issuer.isShared,
});
/** Every changeable field, so the issuer ends up exactly as the document says (jwks and jwks_uri swap in one change). */
const issuerChange = ({ jwksUri, jwks, tokenReuse, maxTokenLifetimeSeconds, isShared }: DesiredTrustedIssuer) => ({
  jwksUri,
  jwks,
  tokenReuse,
  maxTokenLifetimeSeconds,
  isShared,
});

const exchangePolicyFields = (policy: Pick<ExchangePolicyRecord, 'scopes' | 'description'>) => ({ scopes: policy.scopes, description: policy.description });

const credentialFields = (credential: Pick<FederatedCredentialRecord, 'subjectMatch' | 'audiences' | 'claims' | 'description'>) => ({
  subject_match: credential.subjectMatch,
  audiences: credential.audiences,
  claims: credential.claims,
  description: credential.description,
});

/**
 * The registry as a document. Grants name their client by name when that name is unique (easier
 * to read and review), by client_id otherwise; scopes without a description are written as plain
 * strings. The built-in admin API is left out unless asked for, but grants on it are written: they
 * refer to it by identifier, and apply creates it where it is missing.
 */
function exportDocument(
  registry: {
    apis: ApiRecord[];
    issuers: TrustedIssuerRecord[];
    clients: ClientRecord[];
    grants: ClientGrantRecord[];
    credentials: FederatedCredentialRecord[];
    policies: ExchangePolicyRecord[];
  },
  includeAdmin: boolean,
): ConfigDocument {
  const { apis, issuers, clients, grants, credentials, policies } = registry;
  const nameCounts = new Map<string, number>();
  for (const client of clients) nameCounts.set(client.name, (nameCounts.get(client.name) ?? 0) + 1);
  const ids = new Set(clients.map((client) => client.clientId));
  const clientsById = new Map(clients.map((client) => [client.clientId, client]));
  const reference = (clientId: string) => {
    const name = clientsById.get(clientId)?.name;
    return name !== undefined && nameCounts.get(name) === 1 && !ids.has(name) && name !== ANY_SUBJECT_CLIENT ? name : clientId;
  };
  return {
    version: CONFIG_DOCUMENT_VERSION,
    apis: apis
      .filter((api) => includeAdmin || api.identifier !== ADMIN_API_IDENTIFIER)
      .map((api): ConfigApi => ({
        ...withoutFalseFlags(apiFields(api)),
        scopes: api.scopes.every((scope) => scope.description === '') ? api.scopes.map((scope) => scope.value) : api.scopes,
      })),
    trusted_issuers: issuers.map((issuer) => ({ issuer: issuer.issuer, ...issuerFields(issuer) })),
    clients: clients.map((client) => {
      const federated = credentials.filter((credential) => credential.clientId === client.clientId);
      // A client without a quota is written without the field, as it would be written by hand.
      const { quota, ...fields } = clientFields(client);
      return {
        client_id: client.clientId,
        ...withoutFalseFlags(fields),
        ...(quota ? { quota } : {}),
        // Left out when there are none, so a registry without federation exports as before.
        ...(federated.length > 0
          ? {
              federated_credentials: federated.map((credential) => ({
                issuer: credential.issuer,
                subject: credential.subject,
                ...credentialFields(credential),
              })),
            }
          : {}),
      };
    }),
    grants: grants.map((grant) => ({ client: reference(grant.clientId), api: grant.apiIdentifier, ...grantFields(grant) })),
    // Left out when there are none, so a registry without exchange exports as before; a policy
    // naming a deleted subject client matches nothing, and no document could name that client.
    ...(policies.length > 0
      ? {
          exchange_policies: policies
            .filter((policy) => policy.subjectClientId === null || policy.subjectClientId === ANY_SUBJECT_CLIENT || ids.has(policy.subjectClientId))
            .map((policy) => ({
              client: reference(policy.clientId),
              ...(policy.subjectIssuer !== null
                ? { subject_issuer: policy.subjectIssuer }
                : { subject_client: policy.subjectClientId === ANY_SUBJECT_CLIENT ? ANY_SUBJECT_CLIENT : reference(policy.subjectClientId!) }),
              api: policy.apiIdentifier,
              ...exchangePolicyFields(policy),
            })),
        }
      : {}),
  };
}
