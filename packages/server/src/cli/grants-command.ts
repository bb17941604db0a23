import { Command } from 'commander';
import type { Static } from '@sinclair/typebox';
import { grantResource } from '../admin/resources/grant.js';
import { withAdmin } from './cli-context.js';
import { allPages } from '../admin/paging.js';
import { action, fields, parseInteger, parseList, print, table, withManagementOptions, type ManagementOptions } from './output.js';

interface GrantOptions extends ManagementOptions {
  client?: string;
  api?: string;
  scopes?: string[];
  tokenTtl?: number;
}

export function grantsCommand(): Command {
  const grants = new Command('grants').description('client grants: which scopes of which API a client may request');

  withManagementOptions(grants.command('create').description('allow a client to get tokens for an API'))
    .requiredOption('--client <client_id>', 'the client')
    .requiredOption('--api <identifier>', 'the API (audience)')
    .option('--scopes <list>', 'comma-separated scopes of that API', parseList)
    .option('--token-ttl <seconds>', "token lifetime for this client (default: the API's)", parseInteger('--token-ttl'))
    .action(
      action(async (options: GrantOptions) =>
        withAdmin(options, async ({ admin }) => {
          const grant = await admin.createGrant({
            clientId: options.client!,
            apiIdentifier: options.api!,
            scopes: options.scopes ?? [],
            ...(options.tokenTtl !== undefined ? { tokenTtlSeconds: options.tokenTtl } : {}),
          });
          const view = grantResource.toWire(grant);
          print(options, () => `Grant created\n${describeGrant(view)}`, view);
        }),
      ),
    );

  withManagementOptions(grants.command('list').description('list grants'))
    .option('--client <client_id>', 'only this client')
    .option('--api <identifier>', 'only this API')
    .action(
      action(async (options: GrantOptions) =>
        withAdmin(options, async ({ admin }) => {
          const filter = { ...(options.client ? { clientId: options.client } : {}), ...(options.api ? { apiIdentifier: options.api } : {}) };
          const list = (await allPages((page) => admin.listGrants({ ...filter, ...page }))).map(grantResource.toWire);
          print(
            options,
            () =>
              table(
                ['ID', 'CLIENT_ID', 'API', 'SCOPES', 'TTL'],
                list.map((g) => [g.id, g.client_id, g.api, g.scopes.join(','), g.token_ttl_seconds]),
              ),
            list,
          );
        }),
      ),
    );

  withManagementOptions(grants.command('show').description('show one grant').argument('<grant_id>')).action(
    action(async (id: string, options: ManagementOptions) =>
      withAdmin(options, async ({ admin }) => {
        const view = grantResource.toWire(await admin.getGrant(id));
        print(options, () => describeGrant(view), view);
      }),
    ),
  );

  withManagementOptions(grants.command('update').description("change a grant's scopes or token lifetime").argument('<grant_id>'))
    .option('--scopes <list>', 'the complete new list of scopes ("" for none)', (value: string) => parseList(value))
    .option('--token-ttl <seconds>', "token lifetime for this client; 0 = the API's", parseInteger('--token-ttl'))
    .action(
      action(async (id: string, options: GrantOptions) =>
        withAdmin(options, async ({ admin }) => {
          const grant = await admin.updateGrant(id, {
            ...(options.scopes !== undefined ? { scopes: options.scopes } : {}),
            ...(options.tokenTtl !== undefined ? { tokenTtlSeconds: options.tokenTtl === 0 ? null : options.tokenTtl } : {}),
          });
          const view = grantResource.toWire(grant);
          print(options, () => `Grant updated\n${describeGrant(view)}`, view);
        }),
      ),
    );

  withManagementOptions(grants.command('delete').description('remove a grant').argument('<grant_id>')).action(
    action(async (id: string, options: ManagementOptions) =>
      withAdmin(options, async ({ admin }) => {
        await admin.deleteGrant(id);
        print(options, () => `Grant ${id} deleted`, { deleted: id });
      }),
    ),
  );
  return grants;
}

function describeGrant(view: Static<typeof grantResource.schema>): string {
  return fields([
    ['id', view.id],
    ['client_id', view.client_id],
    ['api', view.api],
    ['scopes', view.scopes],
    ['token ttl', view.token_ttl_seconds ?? "API's"],
  ]);
}
