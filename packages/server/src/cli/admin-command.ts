import { Command } from 'commander';
import type { Admin, BootstrappedAdmin } from '../admin/admin.js';
import { ADMIN_API_IDENTIFIER } from '../admin/built-in-admin-api.js';
import { withCliContext } from './cli-context.js';
import { action, fields, print, UsageError, withCommonOptions, type CommonOptions } from './output.js';

/** A deployment that must not see a generated secret supplies its own (from its secrets manager). */
export const BOOTSTRAP_SECRET_ENV = 'M2M_AUTH_BOOTSTRAP_ADMIN_SECRET';

const SECRET_WARNING = 'Store this secret now (e.g. in your secrets manager): it is shown only once and cannot be recovered.';

export function adminCommand(): Command {
  const admin = new Command('admin').description('the admin API’s own clients');
  withCommonOptions(
    admin.command('bootstrap').description(`create an admin client with every admin scope on ${ADMIN_API_IDENTIFIER} and print its secret once`),
  )
    .option('--name <name>', 'client name (default m2m-auth-admin, or m2m-auth-admin-2, … when that is taken)')
    .option('--server <url>', 'not supported: bootstrap writes the database on the server host')
    .action(
      action(async (options: CommonOptions & { name?: string; server?: string }) => {
        if (options.server) {
          throw new UsageError(
            `admin bootstrap runs on the server's host (it writes the database directly). Remotely, an admin client is an ordinary client: clients create, then grants create --api ${ADMIN_API_IDENTIFIER} --scopes …`,
          );
        }
        // Bootstrap sets up a deployment from the server's host: it may create the database and master key.
        return withCliContext(
          options,
          async ({ admin: operations }) => {
            const supplied = process.env[BOOTSTRAP_SECRET_ENV];
            const created = await operations.bootstrapAdminClient({
              ...(supplied ? { clientSecret: supplied } : {}),
              ...(options.name ? { name: options.name } : {}),
            });
            if (!supplied) process.stderr.write(`warning: ${SECRET_WARNING}\n`);
            print(options, () => `Admin client created\n${describeBootstrapped(created, Boolean(supplied))}`, {
              client_id: created.clientId,
              ...(supplied ? {} : { client_secret: created.clientSecret }),
              scopes: created.scopes,
            });
          },
          { mayCreate: true },
        );
      }),
    );
  return admin;
}

/**
 * The first `serve` on an empty registry creates one admin client, so a new deployment can be
 * managed remotely at once. Returns it (with the secret only if it was generated here).
 */
export async function bootstrapOnFirstStart(admin: Admin): Promise<BootstrappedAdmin | undefined> {
  if (!(await admin.isRegistryEmpty())) return undefined;
  const supplied = process.env[BOOTSTRAP_SECRET_ENV];
  return admin.bootstrapAdminClient(supplied ? { clientSecret: supplied } : {});
}

export function describeBootstrapped(created: BootstrappedAdmin, isSecretSupplied: boolean): string {
  return fields([
    ['client_id', created.clientId],
    ['client_secret', isSecretSupplied ? `(from ${BOOTSTRAP_SECRET_ENV})` : created.clientSecret],
    ['scopes', created.scopes],
    ['token', `grant_type=client_credentials audience=${ADMIN_API_IDENTIFIER}`],
  ]);
}
