import { Command } from 'commander';
import { clientSecretDetailsResource } from '../admin/resources/client-secret.js';
import { withAdmin } from './cli-context.js';
import { parseDurationSeconds } from './duration.js';
import { action, print, table, withManagementOptions, type ManagementOptions } from './output.js';

const SECRET_WARNING = 'Store this secret now (e.g. in your secrets manager): it is shown only once and cannot be recovered.';

/** `m2m-auth clients secrets add|list|revoke <client_id> …`: several secrets per client, each with an optional expiry. */
export function clientSecretsCommand(): Command {
  const secrets = new Command('secrets').description('a client’s secrets: several may be live at once, each with an optional expiry');

  withManagementOptions(secrets.command('add').description('add a secret and print it once').argument('<client_id>'))
    .option('--expires-in <duration>', 'the secret stops working after this long, e.g. 90d, 12h, 3600', parseDurationSeconds('--expires-in'))
    .action(
      action(async (clientId: string, options: ManagementOptions & { expiresIn?: number }) =>
        withAdmin(options, async ({ admin }) => {
          const added = await admin.addClientSecret(clientId, options.expiresIn !== undefined ? { expiresInSeconds: options.expiresIn } : {});
          const view = clientSecretDetailsResource.toWire(added.secret);
          process.stderr.write(`warning: ${SECRET_WARNING}\n`);
          print(
            options,
            () => `New secret ${view.id} for ${clientId}${view.expires_at ? ` (expires ${view.expires_at})` : ''}:\nclient_secret: ${added.clientSecret}`,
            { client_id: clientId, client_secret: added.clientSecret, secret: view },
          );
        }),
      ),
    );

  withManagementOptions(secrets.command('list').description('list a client’s secrets (hints only) with expiry and last use').argument('<client_id>')).action(
    action(async (clientId: string, options: ManagementOptions) =>
      withAdmin(options, async ({ admin }) => {
        const list = (await admin.listClientSecrets(clientId)).map(clientSecretDetailsResource.toWire);
        print(
          options,
          () =>
            table(
              ['ID', 'HINT', 'CREATED', 'EXPIRES', 'LAST_USED'],
              list.map((s) => [s.id, s.hint, s.created_at, s.expires_at, s.last_used_at]),
            ),
          list,
        );
      }),
    ),
  );

  withManagementOptions(
    secrets.command('revoke').description('delete one secret: it stops working at once').argument('<client_id>').argument('<secret_id>'),
  ).action(
    action(async (clientId: string, secretId: string, options: ManagementOptions) =>
      withAdmin(options, async ({ admin }) => {
        await admin.revokeClientSecret(clientId, secretId);
        print(options, () => `Secret ${secretId} of ${clientId} revoked`, { client_id: clientId, revoked: secretId });
      }),
    ),
  );
  return secrets;
}
