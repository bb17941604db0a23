import { Command } from 'commander';
import { migrateDatabase, redactDatabaseUrl } from '../storage/open-storage.js';
import { resolveCliConnections } from './cli-context.js';
import { localStore, reportStore } from './store-report.js';
import { action, print, withCommonOptions, type CommonOptions } from './output.js';

/**
 * Applies pending schema migrations and stops. `serve` migrates at start as well (safely, with
 * several instances at once); this lets a deploy do it first, with a role allowed to run DDL.
 */
export function migrateCommand(): Command {
  return withCommonOptions(new Command('migrate').description('bring the database schema up to date and exit')).action(
    action(async (options: CommonOptions) => {
      const connections = resolveCliConnections(options);
      const { database } = connections;
      reportStore(localStore(connections));
      const result = await migrateDatabase(database);
      const where = redactDatabaseUrl(database.url);
      print(
        options,
        () =>
          result.from === result.to
            ? `${where}: schema already at version ${result.to}`
            : `${where}: schema migrated from version ${result.from} to ${result.to}`,
        { database: where, kind: result.kind, from_version: result.from, to_version: result.to },
      );
    }),
  );
}
