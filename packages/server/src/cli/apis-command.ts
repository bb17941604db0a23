import { Command } from 'commander';
import type { SigningAlgorithm, TokenFormat } from '../storage/types.js';
import type { Static } from '@sinclair/typebox';
import { apiResource } from '../admin/resources/api.js';
import { withAdmin } from './cli-context.js';
import { allPages } from '../admin/paging.js';
import { action, fields, parseInteger, parseList, print, table, withManagementOptions, type ManagementOptions } from './output.js';

interface ApiOptions extends ManagementOptions {
  identifier?: string;
  name?: string;
  scopes?: string[];
  alg?: SigningAlgorithm;
  tokenTtl?: number;
  tokenFormat?: TokenFormat;
}

const describeApi = (api: Static<typeof apiResource.schema>) =>
  fields([
    ['identifier', api.identifier],
    ['name', api.name],
    ['scopes', api.scopes.map((scope) => scope.value)],
    ['signing alg', api.signing_alg],
    ['token ttl', `${api.token_ttl_seconds}s`],
    ['token format', api.token_format],
    ['created', api.created_at],
  ]);

const SHARED_SECRET_WARNING = '\nHS256 shared secret (shown once; give it only to this API’s resource servers):';

export function apisCommand(): Command {
  const apis = new Command('apis').description('APIs (resource servers): the audiences tokens are issued for, with their scopes');

  withManagementOptions(apis.command('create').description('register an API'))
    .requiredOption('--identifier <uri>', 'absolute URI; becomes the token audience (aud)')
    .option('--name <name>', 'display name (default: the identifier)')
    .option('--scopes <list>', 'comma-separated scopes, e.g. read:orders,write:orders', parseList)
    .option('--alg <alg>', 'signing algorithm: RS256 (default), PS256, ES256, EdDSA, HS256')
    .option('--token-ttl <seconds>', 'access token lifetime in seconds (default 900)', parseInteger('--token-ttl'))
    .option('--token-format <format>', 'jwt (default): tokens verified offline; opaque: handles resource servers introspect')
    .action(
      action(async (options: ApiOptions) =>
        withAdmin(options, async ({ admin }) => {
          const { api, sharedSecret } = await admin.createApi({
            identifier: options.identifier!,
            ...(options.name !== undefined ? { name: options.name } : {}),
            scopes: options.scopes ?? [],
            ...(options.alg !== undefined ? { signingAlg: options.alg } : {}),
            ...(options.tokenTtl !== undefined ? { tokenTtlSeconds: options.tokenTtl } : {}),
            ...(options.tokenFormat !== undefined ? { tokenFormat: options.tokenFormat } : {}),
          });
          const view = apiResource.toWire(api);
          print(
            options,
            () => `API created\n${describeApi(view)}${sharedSecret ? `${SHARED_SECRET_WARNING}\n  ${sharedSecret}` : ''}`,
            sharedSecret ? { ...view, shared_secret: sharedSecret } : view,
          );
        }),
      ),
    );

  withManagementOptions(apis.command('list').description('list APIs')).action(
    action(async (options: ManagementOptions) =>
      withAdmin(options, async ({ admin }) => {
        const list = (await allPages((page) => admin.listApis(page))).map(apiResource.toWire);
        print(
          options,
          () =>
            table(
              ['IDENTIFIER', 'NAME', 'ALG', 'FORMAT', 'TTL', 'SCOPES'],
              list.map((api) => [
                api.identifier,
                api.name,
                api.signing_alg,
                api.token_format,
                api.token_ttl_seconds,
                api.scopes.map((scope) => scope.value).join(','),
              ]),
            ),
          list,
        );
      }),
    ),
  );

  withManagementOptions(apis.command('show').description('show one API').argument('<identifier>')).action(
    action(async (identifier: string, options: ManagementOptions) =>
      withAdmin(options, async ({ admin }) => {
        const view = apiResource.toWire(await admin.getApi(identifier));
        print(options, () => describeApi(view), view);
      }),
    ),
  );

  withManagementOptions(apis.command('update').description('change an API').argument('<identifier>'))
    .option('--name <name>', 'display name')
    .option('--scopes <list>', 'the complete new scope list, comma-separated', parseList)
    .option('--alg <alg>', 'signing algorithm')
    .option('--token-ttl <seconds>', 'access token lifetime in seconds', parseInteger('--token-ttl'))
    .option('--token-format <format>', 'jwt or opaque (tokens already issued keep theirs)')
    .action(
      action(async (identifier: string, options: ApiOptions) =>
        withAdmin(options, async ({ admin }) => {
          const { api, sharedSecret } = await admin.updateApi(identifier, {
            ...(options.name !== undefined ? { name: options.name } : {}),
            ...(options.scopes !== undefined ? { scopes: options.scopes } : {}),
            ...(options.alg !== undefined ? { signingAlg: options.alg } : {}),
            ...(options.tokenTtl !== undefined ? { tokenTtlSeconds: options.tokenTtl } : {}),
            ...(options.tokenFormat !== undefined ? { tokenFormat: options.tokenFormat } : {}),
          });
          const view = apiResource.toWire(api);
          print(
            options,
            () => `API updated\n${describeApi(view)}${sharedSecret ? `${SHARED_SECRET_WARNING}\n  ${sharedSecret}` : ''}`,
            sharedSecret ? { ...view, shared_secret: sharedSecret } : view,
          );
        }),
      ),
    );

  withManagementOptions(apis.command('delete').description('delete an API and every grant on it').argument('<identifier>')).action(
    action(async (identifier: string, options: ManagementOptions) =>
      withAdmin(options, async ({ admin }) => {
        await admin.deleteApi(identifier);
        print(options, () => `API ${identifier} deleted`, { deleted: identifier });
      }),
    ),
  );
  return apis;
}
