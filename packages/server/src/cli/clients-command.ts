import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { ClientAuthMethod, QuotaMode } from '../storage/types.js';
import { QUOTA_MODES } from '../storage/types.js';
import type { QuotaChangeInput } from '../admin/validation.js';
import type { Static } from '@sinclair/typebox';
import { clientResource } from '../admin/resources/client.js';
import { clientSecretResource } from '../admin/resources/client-secret.js';
import { withAdmin } from './cli-context.js';
import { allPages } from '../admin/paging.js';
import { action, fields, parseInteger, parseList, print, table, UsageError, withManagementOptions, type ManagementOptions } from './output.js';
import { clientSecretsCommand } from './client-secrets-command.js';
import { federatedCredentialsCommand } from './federated-credentials-command.js';

interface ClientOptions extends ManagementOptions {
  name?: string;
  description?: string;
  defaultApi?: string;
  authMethods?: ClientAuthMethod[];
  jwksFile?: string;
  grace?: number;
  introspect?: string[];
  quotaPerHour?: number | null;
  quotaPerDay?: number | null;
  quotaMode?: QuotaMode;
  removeQuota?: boolean;
  /** --dpop-bound / --no-dpop-bound. */
  dpopBound?: boolean;
  tlsSubjectDn?: string;
  tlsSanDns?: string[];
  /** --certificate-bound / --no-certificate-bound. */
  certificateBound?: boolean;
}

/** The mutual-TLS registration the flags ask for ("" removes a subject or the DNS names on update). */
function mutualTlsChange(options: ClientOptions) {
  return {
    ...(options.tlsSubjectDn !== undefined ? { tlsClientAuthSubjectDn: options.tlsSubjectDn || null } : {}),
    ...(options.tlsSanDns !== undefined ? { tlsClientAuthSanDns: options.tlsSanDns } : {}),
    ...(options.certificateBound !== undefined ? { tlsClientCertificateBoundAccessTokens: options.certificateBound } : {}),
  };
}

/** `--quota-per-hour 500`, or `none` for no hourly limit. */
function parseQuotaLimit(name: string) {
  return (value: string): number | null => {
    if (value === 'none') return null;
    if (!/^\d+$/.test(value)) throw new UsageError(`${name} must be a whole number of tokens or none (got ${JSON.stringify(value)})`);
    return Number(value);
  };
}

const quotaOptions = {
  perHour: () => new Option('--quota-per-hour <n>', 'most tokens per hour (UTC); none: no hourly limit').argParser(parseQuotaLimit('--quota-per-hour')),
  perDay: () => new Option('--quota-per-day <n>', 'most tokens per day (UTC); none: no daily limit').argParser(parseQuotaLimit('--quota-per-day')),
  mode: () =>
    new Option('--quota-mode <mode>', 'enforce (429 past the quota; the default) or observe (issue, count and log what enforce would refuse)').choices([
      ...QUOTA_MODES,
    ]),
};

/** The quota change the flags ask for, if any. */
function quotaChange(options: ClientOptions): { quota?: QuotaChangeInput } {
  if (options.removeQuota) return { quota: null };
  if (options.quotaPerHour === undefined && options.quotaPerDay === undefined && options.quotaMode === undefined) return {};
  return {
    quota: {
      ...(options.quotaPerHour !== undefined ? { perHour: options.quotaPerHour } : {}),
      ...(options.quotaPerDay !== undefined ? { perDay: options.quotaPerDay } : {}),
      ...(options.quotaMode !== undefined ? { mode: options.quotaMode } : {}),
    },
  };
}

const describeQuota = (quota: Static<typeof clientResource.schema>['quota']) =>
  quota &&
  `${[quota.per_hour !== null ? `${quota.per_hour}/hour` : '', quota.per_day !== null ? `${quota.per_day}/day` : ''].filter(Boolean).join(', ')} (${quota.mode})`;

const SECRET_WARNING = 'Store this secret now (e.g. in your secrets manager): it is shown only once and cannot be recovered.';

const describeClient = (client: Static<typeof clientResource.schema>) =>
  fields([
    ['client_id', client.client_id],
    ['name', client.name],
    ['description', client.description || '-'],
    ['default api', client.default_api],
    ['enabled', client.enabled ? 'yes' : 'no'],
    ['auth methods', client.token_endpoint_auth_methods],
    ['introspects', client.introspect_apis],
    ['quota', describeQuota(client.quota)],
    ['dpop-bound', client.dpop_bound_access_tokens ? 'yes: every token request must carry a DPoP proof' : 'no'],
    ...(client.tls_client_auth_subject_dn !== null ? [['tls subject dn', client.tls_client_auth_subject_dn] as [string, string]] : []),
    ...(client.tls_client_auth_san_dns.length > 0 ? [['tls san dns', client.tls_client_auth_san_dns] as [string, string[]]] : []),
    ['certificate-bound', client.tls_client_certificate_bound_access_tokens ? 'yes: every token request must present its TLS client certificate' : 'no'],
    ['created', client.created_at],
  ]);

function readJwks(path: string | undefined) {
  if (path === undefined) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`--jwks-file ${path}: ${(error as Error).message}`);
  }
}

export function clientsCommand(): Command {
  const clients = new Command('clients').description('clients: one per calling service');

  withManagementOptions(clients.command('create').description('register a client and print its secret once'))
    .requiredOption('--name <name>', 'service name, e.g. billing-service')
    .option('--description <text>', 'free text')
    .option('--default-api <identifier>', 'audience used when a token request names none')
    .option('--auth-methods <list>', 'client_secret_basic,client_secret_post,private_key_jwt,tls_client_auth,self_signed_tls_client_auth', parseList)
    .option('--jwks-file <path>', 'public JWK Set for private_key_jwt; keys with x5c certificates for self_signed_tls_client_auth')
    .option('--tls-subject-dn <dn>', 'tls_client_auth: the subject of its certificate, an RFC 4514 DN such as "CN=orders,O=Example"')
    .option('--tls-san-dns <names>', 'tls_client_auth: DNS names (comma-separated), one of which its certificate must carry', parseList)
    .option('--introspect <apis>', 'API identifiers (comma-separated) or * whose tokens this client may introspect', parseList)
    .addOption(quotaOptions.perHour())
    .addOption(quotaOptions.perDay())
    .addOption(quotaOptions.mode())
    .option('--dpop-bound', 'every token request must carry a DPoP proof: all its tokens are bound to its key (dpop_bound_access_tokens)')
    .option(
      '--certificate-bound',
      'every token request must present its TLS client certificate: all its tokens are bound to it (tls_client_certificate_bound_access_tokens)',
    )
    .action(
      action(async (options: ClientOptions) =>
        withAdmin(options, async ({ admin }) => {
          const jwks = readJwks(options.jwksFile);
          const created = await admin.createClient({
            name: options.name!,
            ...(options.description !== undefined ? { description: options.description } : {}),
            ...(options.defaultApi !== undefined ? { defaultApi: options.defaultApi } : {}),
            ...(options.authMethods !== undefined ? { tokenEndpointAuthMethods: options.authMethods } : {}),
            ...(jwks !== undefined ? { jwks } : {}),
            ...(options.introspect !== undefined ? { introspectApis: options.introspect } : {}),
            ...quotaChange(options),
            ...(options.dpopBound !== undefined ? { dpopBoundAccessTokens: options.dpopBound } : {}),
            ...mutualTlsChange(options),
          });
          const view = clientResource.toWire(created.client);
          if (created.clientSecret) process.stderr.write(`warning: ${SECRET_WARNING}\n`);
          print(options, () => `Client created\n${describeClient(view)}${created.clientSecret ? `\nclient_secret: ${created.clientSecret}` : ''}`, {
            ...view,
            ...(created.clientSecret ? { client_secret: created.clientSecret } : {}),
          });
        }),
      ),
    );

  withManagementOptions(clients.command('list').description('list clients')).action(
    action(async (options: ManagementOptions) =>
      withAdmin(options, async ({ admin }) => {
        const list = (await allPages((page) => admin.listClients(page))).map(clientResource.toWire);
        print(
          options,
          () =>
            table(
              ['CLIENT_ID', 'NAME', 'ENABLED', 'DEFAULT_API'],
              list.map((c) => [c.client_id, c.name, c.enabled ? 'yes' : 'no', c.default_api]),
            ),
          list,
        );
      }),
    ),
  );

  withManagementOptions(clients.command('show').description('show a client and its secrets (hints only)').argument('<client_id>')).action(
    action(async (clientId: string, options: ManagementOptions) =>
      withAdmin(options, async ({ admin }) => {
        const { client, secrets } = await admin.getClient(clientId);
        const grants = await allPages((page) => admin.listGrants({ clientId, ...page }));
        const view = {
          ...clientResource.toWire(client),
          secrets: secrets.map(clientSecretResource.toWire),
          grants: grants.map((grant) => ({ id: grant.id, api: grant.apiIdentifier, scopes: grant.scopes })),
        };
        print(
          options,
          () =>
            `${describeClient(view)}\n\nsecrets:\n${table(
              ['ID', 'HINT', 'CREATED', 'EXPIRES'],
              view.secrets.map((s) => [s.id, s.hint, s.created_at, s.expires_at]),
            )}` +
            `\n\ngrants:\n${table(
              ['ID', 'API', 'SCOPES'],
              view.grants.map((g) => [g.id, g.api, g.scopes.join(',')]),
            )}`,
          view,
        );
      }),
    ),
  );

  withManagementOptions(clients.command('update').description('change a client').argument('<client_id>'))
    .option('--name <name>', 'service name')
    .option('--description <text>', 'free text')
    .option('--default-api <identifier>', 'default audience ("" to clear)')
    .option('--auth-methods <list>', 'allowed authentication methods', parseList)
    .option('--jwks-file <path>', 'public JWK Set for private_key_jwt; keys with x5c certificates for self_signed_tls_client_auth')
    .option('--tls-subject-dn <dn>', 'tls_client_auth: the subject of its certificate, an RFC 4514 DN ("" removes)')
    .option('--tls-san-dns <names>', 'tls_client_auth: DNS names (comma-separated) its certificate may carry ("" removes)', parseList)
    .option('--introspect <apis>', 'API identifiers (comma-separated) or * whose tokens this client may introspect ("" removes)', parseList)
    .addOption(quotaOptions.perHour())
    .addOption(quotaOptions.perDay())
    .addOption(quotaOptions.mode())
    .option('--remove-quota', 'remove the token quota')
    .option('--dpop-bound', 'every token request must carry a DPoP proof (dpop_bound_access_tokens)')
    .option('--no-dpop-bound', 'DPoP optional again: bearer tokens without a proof')
    .option('--certificate-bound', 'every token request must present its TLS client certificate (tls_client_certificate_bound_access_tokens)')
    .option('--no-certificate-bound', 'a certificate optional again: bearer tokens without one')
    .action(
      action(async (clientId: string, options: ClientOptions) =>
        withAdmin(options, async ({ admin }) => {
          const jwks = readJwks(options.jwksFile);
          const client = await admin.updateClient(clientId, {
            ...(options.name !== undefined ? { name: options.name } : {}),
            ...(options.description !== undefined ? { description: options.description } : {}),
            ...(options.defaultApi !== undefined ? { defaultApi: options.defaultApi || null } : {}),
            ...(options.authMethods !== undefined ? { tokenEndpointAuthMethods: options.authMethods } : {}),
            ...(jwks !== undefined ? { jwks } : {}),
            ...(options.introspect !== undefined ? { introspectApis: options.introspect } : {}),
            ...quotaChange(options),
            ...(options.dpopBound !== undefined ? { dpopBoundAccessTokens: options.dpopBound } : {}),
            ...mutualTlsChange(options),
          });
          const view = clientResource.toWire(client);
          print(options, () => `Client updated\n${describeClient(view)}`, view);
        }),
      ),
    );

  for (const [name, isEnabled] of [
    ['disable', false],
    ['enable', true],
  ] as const) {
    withManagementOptions(
      clients
        .command(name)
        .description(`${name} a client (${isEnabled ? 'it can get tokens again' : 'no new tokens; introspection reports its tokens inactive'})`)
        .argument('<client_id>'),
    ).action(
      action(async (clientId: string, options: ManagementOptions) =>
        withAdmin(options, async ({ admin }) => {
          const view = clientResource.toWire(await admin.updateClient(clientId, { isEnabled }));
          print(options, () => `Client ${clientId} ${name}d`, view);
        }),
      ),
    );
  }

  withManagementOptions(clients.command('delete').description('delete a client with its secrets and grants').argument('<client_id>')).action(
    action(async (clientId: string, options: ManagementOptions) =>
      withAdmin(options, async ({ admin }) => {
        await admin.deleteClient(clientId);
        print(options, () => `Client ${clientId} deleted`, { deleted: clientId });
      }),
    ),
  );

  withManagementOptions(
    clients.command('rotate-secret').description('issue a new secret; current ones stop working after the grace period').argument('<client_id>'),
  )
    .option('--grace <seconds>', 'how long the current secrets keep working (default 3600)', parseInteger('--grace'))
    .action(
      action(async (clientId: string, options: ClientOptions) =>
        withAdmin(options, async ({ admin }) => {
          const rotated = await admin.rotateClientSecret(clientId, options.grace !== undefined ? { graceSeconds: options.grace } : {});
          const expires = new Date(rotated.previousSecretsExpireAt).toISOString();
          process.stderr.write(`warning: ${SECRET_WARNING}\n`);
          print(options, () => `New secret for ${clientId} (previous secrets stop working at ${expires}):\nclient_secret: ${rotated.clientSecret}`, {
            client_id: clientId,
            client_secret: rotated.clientSecret,
            secret: clientSecretResource.toWire(rotated.secret),
            previous_secrets_expire_at: expires,
          });
        }),
      ),
    );
  clients.addCommand(clientSecretsCommand());
  clients.addCommand(federatedCredentialsCommand());
  return clients;
}
