import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { TokenReusePolicy, TrustedIssuerKind } from '../storage/types.js';
import { TRUSTED_ISSUER_KINDS } from '../federation/federation-rules.js';
import { trustedIssuerResource, type TrustedIssuerWire, type UpdateTrustedIssuerInput } from '../admin/resources/trusted-issuer.js';
import { TOKEN_REUSE_POLICIES, validateIssuerJwks } from '../admin/federation-validation.js';
import { AdminError, isAdminError } from '../errors/admin-error.js';
import { allPages } from '../admin/paging.js';
import { withAdmin } from './cli-context.js';
import { parseDurationSeconds } from './duration.js';
import { action, fields, print, table, UsageError, withManagementOptions, type ManagementOptions } from './output.js';

interface IssuerOptions extends ManagementOptions {
  issuer: string;
  kind?: TrustedIssuerKind;
  jwksUri?: string;
  jwksFile?: string;
  tokenReuse?: TokenReusePolicy;
  maxTokenLifetime?: number;
  shared?: boolean;
  notShared?: boolean;
  force?: boolean;
}

/** Where an issuer's keys come from, in a few words. */
function keySource(issuer: TrustedIssuerWire): string {
  if (issuer.jwks) {
    const kids = issuer.jwks.keys.map((key) => key.kid).filter((kid) => kid !== undefined);
    return `inline, ${issuer.jwks.keys.length} key${issuer.jwks.keys.length === 1 ? '' : 's'}${kids.length > 0 ? ` (${kids.join(', ')})` : ''}`;
  }
  return issuer.jwks_uri ?? 'from its discovery document';
}

const describeIssuer = (issuer: TrustedIssuerWire) =>
  fields([
    ['issuer', issuer.issuer],
    ['kind', issuer.kind],
    ['keys', keySource(issuer)],
    ['token reuse', issuer.token_reuse],
    ['max token lifetime', `${issuer.max_token_lifetime_seconds} s`],
    ['shared', issuer.shared ? 'yes (a subject prefix also needs a claim condition)' : 'no'],
    ['created', issuer.created_at],
    ['updated', issuer.updated_at],
  ]);

/**
 * A JWKS file (a cluster's `/openid/v1/jwks`, a SPIFFE bundle): its keys, checked here so the
 * answer is the same against a local data directory and a remote server. Other members of the
 * file (a bundle's spiffe_sequence) are not kept.
 */
function readIssuerJwks(path: string) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`--jwks-file ${path}: ${(error as Error).message}`);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  try {
    return validateIssuerJwks({ keys });
  } catch (error) {
    if (isAdminError(error)) throw new AdminError(error.code, `--jwks-file ${path}: ${error.message}`, error.field);
    throw error;
  }
}

/** The options that set an issuer's keys and checks, on `add` and `update` alike. */
function withIssuerSettings(command: Command): Command {
  return command
    .addOption(new Option('--jwks-uri <url>', 'where its keys are fetched (default: from its discovery document)').conflicts('jwksFile'))
    .option('--jwks-file <path>', 'its public keys (a JWKS file, e.g. a cluster’s /openid/v1/jwks or a SPIFFE bundle), stored inline: nothing is fetched')
    .addOption(new Option('--token-reuse <policy>', 'whether a token may authenticate more than once (default by kind)').choices(TOKEN_REUSE_POLICIES))
    .option(
      '--max-token-lifetime <duration>',
      'the longest lifetime a token may have to be accepted, e.g. 1h, 900 (default 1h)',
      parseDurationSeconds('--max-token-lifetime'),
    )
    .option('--shared', 'many tenants share the issuer: a subject prefix on it also needs a claim condition (default for GitHub Actions, GitLab.com, …)')
    .addOption(new Option('--not-shared', 'the issuer is yours alone').conflicts('shared'));
}

function settingsOf(options: IssuerOptions): UpdateTrustedIssuerInput {
  const jwks = options.jwksFile === undefined ? undefined : readIssuerJwks(options.jwksFile);
  return {
    ...(options.jwksUri !== undefined ? { jwksUri: options.jwksUri } : {}),
    ...(jwks !== undefined ? { jwks } : {}),
    ...(options.tokenReuse !== undefined ? { tokenReuse: options.tokenReuse } : {}),
    ...(options.maxTokenLifetime !== undefined ? { maxTokenLifetimeSeconds: options.maxTokenLifetime } : {}),
    ...(options.shared ? { isShared: true } : options.notShared ? { isShared: false } : {}),
  };
}

const ISSUER_OPTION = ['--issuer <url>', 'the issuer: the iss of its tokens (spiffe://trust-domain for a SPIFFE trust domain)'] as const;

/** `m2m-auth issuers add|list|show|update|remove`: platforms whose tokens clients may present instead of a secret. */
export function issuersCommand(): Command {
  const issuers = new Command('issuers').description(
    'trusted issuers: platforms (Kubernetes, CI, OIDC, SPIFFE) whose tokens clients may present instead of a secret',
  );

  withIssuerSettings(
    withManagementOptions(issuers.command('add').description('trust a platform’s tokens'))
      .requiredOption(...ISSUER_OPTION)
      .addOption(new Option('--kind <kind>', 'what the issuer is; sets the defaults').choices(TRUSTED_ISSUER_KINDS).default('oidc')),
  ).action(
    action(async (options: IssuerOptions) => {
      // A key file is read and checked before any store is opened.
      const settings = settingsOf(options);
      await withAdmin(options, async ({ admin }) => {
        const view = trustedIssuerResource.toWire(await admin.addTrustedIssuer({ issuer: options.issuer, kind: options.kind!, ...settings }));
        print(options, () => `Trusted issuer added\n${describeIssuer(view)}`, view);
      });
    }),
  );

  withManagementOptions(issuers.command('list').description('list trusted issuers')).action(
    action(async (options: ManagementOptions) =>
      withAdmin(options, async ({ admin }) => {
        const list = (await allPages((page) => admin.listTrustedIssuers(page))).map(trustedIssuerResource.toWire);
        print(
          options,
          () =>
            table(
              ['ISSUER', 'KIND', 'KEYS', 'TOKEN_REUSE', 'MAX_LIFETIME', 'SHARED'],
              list.map((issuer) => [
                issuer.issuer,
                issuer.kind,
                keySource(issuer),
                issuer.token_reuse,
                `${issuer.max_token_lifetime_seconds} s`,
                issuer.shared ? 'yes' : 'no',
              ]),
            ),
          list,
        );
      }),
    ),
  );

  withManagementOptions(issuers.command('show').description('show a trusted issuer'))
    .requiredOption(...ISSUER_OPTION)
    .action(
      action(async (options: IssuerOptions) =>
        withAdmin(options, async ({ admin }) => {
          const view = trustedIssuerResource.toWire(await admin.getTrustedIssuer(options.issuer));
          print(options, () => describeIssuer(view), view);
        }),
      ),
    );

  withIssuerSettings(
    withManagementOptions(issuers.command('update').description('change a trusted issuer’s keys or checks')).requiredOption(...ISSUER_OPTION),
  ).action(
    action(async (options: IssuerOptions) => {
      const settings = settingsOf(options);
      if (Object.keys(settings).length === 0)
        throw new UsageError('nothing to change: give --jwks-uri, --jwks-file, --token-reuse, --max-token-lifetime or --shared/--not-shared');
      // One source of keys replaces the other.
      const keys = settings.jwks !== undefined ? { jwksUri: null } : settings.jwksUri !== undefined ? { jwks: null } : {};
      await withAdmin(options, async ({ admin }) => {
        const view = trustedIssuerResource.toWire(await admin.updateTrustedIssuer(options.issuer, { ...keys, ...settings }));
        print(options, () => `Trusted issuer updated\n${describeIssuer(view)}`, view);
      });
    }),
  );

  withManagementOptions(issuers.command('remove').description('stop trusting an issuer (refused while federated credentials name it, unless --force)'))
    .requiredOption(...ISSUER_OPTION)
    .option('--force', 'also remove the federated credentials that name it')
    .action(
      action(async (options: IssuerOptions) =>
        withAdmin(options, async ({ admin }) => {
          await admin.removeTrustedIssuer(options.issuer, options.force ? { force: true } : {});
          print(options, () => `Trusted issuer ${options.issuer} removed`, { removed: options.issuer });
        }),
      ),
    );
  return issuers;
}
