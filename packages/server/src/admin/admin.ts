import { createAdminContext, type AdminCaller, type AdminDeps } from './admin-context.js';
import { createApiOperations, createApiWrites, type ApiOperations } from './apis.js';
import { createClientOperations, createClientWrites, type ClientOperations } from './clients.js';
import { createGrantOperations, createGrantWrites, type GrantOperations } from './grants.js';
import { createKeyOperations, type KeyOperations } from './keys.js';
import { createAuditOperations, type AuditOperations } from './audit.js';
import { createBootstrapOperations, type BootstrapOperations } from './bootstrap.js';
import { createConfigOperations, type ConfigOperations } from './apply-config.js';
import { createClientSecretOperations, type ClientSecretOperations } from './client-secrets.js';
import { createSigningKeyLifecycleOperations, type SigningKeyLifecycleOperations } from './signing-key-lifecycle.js';
import { createTrustedIssuerOperations, createTrustedIssuerWrites, type TrustedIssuerOperations } from './trusted-issuers.js';
import { createFederatedCredentialOperations, createFederatedCredentialWrites, type FederatedCredentialOperations } from './federated-credentials.js';
import { createUsageOperations, type UsageOperations } from './usage.js';
import { createOverviewOperations, type OverviewOperations } from './overview.js';
import { createTokenInspectionOperations, type TokenInspectionOperations } from './token-inspection.js';
import { createExchangePolicyOperations, createExchangePolicyWrites, type ExchangePolicyOperations } from './exchange-policies.js';

export type { AdminDeps, AdminCaller } from './admin-context.js';
export type { CreateApiInput, UpdateApiInput, ApiResult } from './apis.js';
export type { CreateClientInput, UpdateClientInput, CreatedClient, RotatedSecret, ClientSecretSummary } from './clients.js';
export type { CreateGrantInput, UpdateGrantInput, GrantFilter } from './grants.js';
export type { SigningKeySummary, RotatedKey } from './keys.js';
export type { AuditEventFilter } from './audit.js';
export type { BootstrapInput, BootstrappedAdmin } from './bootstrap.js';
export type { ListOptions, Page } from './paging.js';
export type { ApplyConfigOptions, ApplyConfigResult, ConfigPlan, CreatedSecret, ExportConfigOptions, PlanChange } from './apply-config.js';
export type { ConfigApi, ConfigClient, ConfigDocument, ConfigGrant } from './config-document.js';
export type { ClientSecretDetails, AddedClientSecret } from './client-secrets.js';
export type { AddTrustedIssuerInput, UpdateTrustedIssuerInput } from './trusted-issuers.js';
export type { AddFederatedCredentialInput } from './federated-credentials.js';
export type { UsageFilter, UsageView } from './usage.js';
export type { OverviewSources, OverviewView } from './overview.js';
export type { AddExchangePolicyInput, ExchangePolicyFilter } from './exchange-policies.js';

/**
 * Every management operation, one implementation behind the CLI, the admin HTTP API and the
 * programmatic API. Inputs are validated here, so every front end rejects the same bad input the
 * same way; every write runs in one storage transaction with its audit event.
 */
export interface Admin
  extends
    ApiOperations,
    ClientOperations,
    ClientSecretOperations,
    FederatedCredentialOperations,
    TrustedIssuerOperations,
    ExchangePolicyOperations,
    GrantOperations,
    KeyOperations,
    SigningKeyLifecycleOperations,
    AuditOperations,
    BootstrapOperations,
    ConfigOperations,
    UsageOperations,
    OverviewOperations,
    TokenInspectionOperations {
  /** Who the audit log names for writes made through this handle. */
  readonly actor: string;
  /** The same operations, recorded in the audit log as done by `actor`. */
  withActor(actor: string): Admin;
  /**
   * The same operations on behalf of an admin client of the admin API: audited as done by it, and
   * refused (403) where they would confer admin scopes or permissions it does not hold.
   */
  asCaller(caller: AdminCaller): Admin;
}

export function createAdmin(deps: AdminDeps): Admin {
  const context = createAdminContext(deps);
  const apiWrites = createApiWrites(context);
  const clientWrites = createClientWrites(context);
  const grantWrites = createGrantWrites(context);
  const issuerWrites = createTrustedIssuerWrites(context);
  const credentialWrites = createFederatedCredentialWrites(context);
  const policyWrites = createExchangePolicyWrites(context);
  return {
    actor: deps.actor,
    withActor: (actor) => createAdmin({ ...deps, actor }),
    asCaller: (caller) => createAdmin({ ...deps, actor: caller.clientId, caller }),
    ...createApiOperations(context, apiWrites),
    ...createClientOperations(context, clientWrites),
    ...createGrantOperations(context, grantWrites),
    ...createClientSecretOperations(context),
    ...createTrustedIssuerOperations(context, issuerWrites),
    ...createFederatedCredentialOperations(context, credentialWrites),
    ...createExchangePolicyOperations(context, policyWrites),
    ...createKeyOperations(context),
    ...createSigningKeyLifecycleOperations(context),
    ...createAuditOperations(context),
    ...createBootstrapOperations(context, clientWrites, grantWrites),
    ...createConfigOperations(context, {
      apis: apiWrites,
      clients: clientWrites,
      grants: grantWrites,
      issuers: issuerWrites,
      credentials: credentialWrites,
      policies: policyWrites,
    }),
    ...createUsageOperations(context),
    ...createOverviewOperations(context),
    ...createTokenInspectionOperations(context),
  };
}
