import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { MASTER_KEY_FILE } from '../keys/master-key.js';
import { findMissingDatabase } from '../storage/open-storage.js';
import { resolveCliConnections, withConnections } from './cli-context.js';
import { connectionFlags } from './connection-flags.js';
import { localStore, reportStore } from './store-report.js';
import { action, print, withCommonOptions, type CommonOptions } from './output.js';

/**
 * The one explicit way to set up a new deployment from the CLI: the data directory, the database
 * (the SQLite file, or the m2m-auth schema in PostgreSQL), the master key and the first signing
 * key — what `serve` makes on its first start — saying what it made. Other management commands
 * refuse a missing database or master key, so a typo in --data-dir cannot start a second registry.
 * Run again, it makes what is missing and nothing else.
 */
export function initCommand(): Command {
  return withCommonOptions(
    new Command('init').description('create the data directory, the database and the master key (as the first `serve` does) and say what was made'),
  ).action(
    action(async (options: CommonOptions) => {
      const connections = resolveCliConnections(options);
      const store = localStore(connections);
      reportStore(store);
      const { dataDir } = connections;
      const keyFile = join(dataDir, MASTER_KEY_FILE);
      const isKeyFromEnv = Boolean(process.env.M2M_AUTH_MASTER_KEY);
      const before = {
        dataDir: existsSync(dataDir),
        database: (await findMissingDatabase(connections.database)) === undefined,
        masterKey: isKeyFromEnv || existsSync(keyFile),
      };
      const createdKeys = await withConnections(connections, async (context) => context.createdKeys, { mayCreate: true });
      const created = {
        data_dir: !before.dataDir && existsSync(dataDir),
        database: !before.database,
        master_key: !before.masterKey,
        signing_keys: createdKeys.map((key) => key.kid),
      };
      const next = connectionFlags(connections);
      print(
        options,
        () =>
          [
            ...(created.data_dir ? [`Created the data directory ${dataDir}`] : []),
            ...(created.database
              ? [store.kind === 'postgres' ? `Created the m2m-auth schema in ${store.location}` : `Created the database ${store.location}`]
              : []),
            ...(created.master_key
              ? [
                  `Created the master key ${keyFile} (mode 0600).`,
                  '  Back it up apart from the database: without it no signing key can be read and no client secret matches.',
                ]
              : []),
            ...createdKeys.map((key) => `Created the ${key.alg} signing key ${key.kid}`),
            ...(Object.values(created).some((made) => made === true) || createdKeys.length > 0
              ? []
              : [`Nothing to create: ${store.location} and its master key (${isKeyFromEnv ? 'M2M_AUTH_MASTER_KEY' : keyFile}) are in place.`]),
            '',
            'Next:',
            `  m2m-auth serve ${next.flags}`,
            `  m2m-auth apis create --identifier https://orders.example --scopes read:orders ${next.flags}`,
            ...(next.note ? [`  (${next.note})`] : []),
          ].join('\n'),
        {
          data_dir: dataDir,
          database: store.location,
          master_key: isKeyFromEnv ? 'M2M_AUTH_MASTER_KEY' : keyFile,
          created,
        },
      );
    }),
  );
}
