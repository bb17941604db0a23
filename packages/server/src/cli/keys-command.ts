import { Command } from 'commander';
import type { SigningAlgorithm } from '../storage/types.js';
import { signingKeyResource } from '../admin/resources/signing-key.js';
import { withAdmin } from './cli-context.js';
import { action, print, table, withManagementOptions, type ManagementOptions } from './output.js';

interface KeyOptions extends ManagementOptions {
  alg?: SigningAlgorithm;
  api?: string;
}

export function keysCommand(): Command {
  const keys = new Command('keys').description('signing keys (private parts are encrypted at rest and never printed)');

  withManagementOptions(keys.command('list').description('list signing keys')).action(
    action(async (options: ManagementOptions) =>
      withAdmin(options, async ({ admin }) => {
        const list = (await admin.listKeys()).map(signingKeyResource.toWire);
        print(
          options,
          () =>
            table(
              ['KID', 'ALG', 'STATUS', 'API', 'CREATED', 'ROTATED'],
              list.map((k) => [k.kid, k.alg, k.status, k.api, k.created_at, k.rotated_at]),
            ),
          list,
        );
      }),
    ),
  );

  withManagementOptions(keys.command('rotate').description('new key signs from now on; the old one stays in the JWKS'))
    .option('--alg <alg>', 'algorithm to rotate (default RS256)', 'RS256')
    .option('--api <identifier>', 'for HS256: the API whose shared secret to rotate')
    .action(
      action(async (options: KeyOptions) =>
        withAdmin(options, async ({ admin }) => {
          const rotated = await admin.rotateSigningKey(options.alg, options.api);
          const view = {
            key: signingKeyResource.toWire(rotated.key),
            previous: rotated.previous.map(signingKeyResource.toWire),
            ...(rotated.sharedSecret ? { shared_secret: rotated.sharedSecret } : {}),
          };
          print(
            options,
            () =>
              `New ${view.key.alg} signing key ${view.key.kid} is active.` +
              (view.previous.length ? `\nStill published for verification: ${view.previous.map((k) => k.kid).join(', ')}` : '') +
              (rotated.sharedSecret ? `\nNew HS256 shared secret (shown once): ${rotated.sharedSecret}` : ''),
            view,
          );
        }),
      ),
    );

  withManagementOptions(keys.command('retire').description('remove a rotated key from the JWKS once tokens it signed expired').argument('<kid>'))
    .option('--force', 'retire even though tokens it signed may still be alive (they stop verifying)')
    .action(
      action(async (kid: string, options: ManagementOptions & { force?: boolean }) =>
        withAdmin(options, async ({ admin }) => {
          await admin.retireSigningKey(kid, { force: options.force === true });
          print(options, () => `Key ${kid} retired`, { retired: kid });
        }),
      ),
    );

  withManagementOptions(
    keys
      .command('revoke')
      .description('emergency: remove a key from the JWKS at once (an active key is replaced first); tokens it signed stop verifying')
      .argument('<kid>'),
  ).action(
    action(async (kid: string, options: ManagementOptions) =>
      withAdmin(options, async ({ admin }) => {
        const result = await admin.revokeSigningKey(kid);
        print(options, () => `Key ${kid} revoked${result.replacement ? `; ${result.replacement} signs from now on` : ''}`, {
          revoked: kid,
          replacement: result.replacement ?? null,
        });
      }),
    ),
  );
  return keys;
}
