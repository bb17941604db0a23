import { describe, expect, it } from 'vitest';
import { connectionFlags } from '../../src/cli/connection-flags.js';

/** The flags serve's next steps and the CLI's errors print: the same store, never a password. */
describe('connectionFlags', () => {
  const dataDir = '/srv/m2m-auth-data';
  const at = (url: string) => ({ dataDir, database: { url } });

  it('the data directory alone when the database is its own SQLite file', () => {
    expect(connectionFlags(at(`sqlite:${dataDir}/m2m-auth.db`), {})).toEqual({ flags: `--data-dir ${dataDir}`, note: undefined });
    expect(connectionFlags(at(`sqlite:${dataDir}/m2m-auth.db`), { M2M_AUTH_MASTER_KEY: 'k' }).flags).toBe(`--data-dir ${dataDir}`);
  });

  it('repeats any other database URL, quoted for the shell', () => {
    expect(connectionFlags(at('sqlite:/elsewhere/auth.db'), {}).flags).toBe(`--database-url sqlite:/elsewhere/auth.db --data-dir ${dataDir}`);
    expect(connectionFlags({ dataDir: '/my data', database: { url: 'postgres://db/m2m?sslmode=require' } }, {}).flags).toBe(
      `--database-url 'postgres://db/m2m?sslmode=require' --data-dir '/my data'`,
    );
  });

  it('PostgreSQL: without the password (and says so), or in the environment variable form it came in', () => {
    const url = 'postgres://auth:s3cret@db.internal:5432/m2m';
    expect(connectionFlags(at(url), {})).toEqual({
      flags: `--database-url postgres://auth@db.internal:5432/m2m --data-dir ${dataDir}`,
      note: 'the database password is left out: supply it with PGPASSWORD or ~/.pgpass, or export M2M_AUTH_DATABASE_URL',
    });
    expect(connectionFlags(at(url), { M2M_AUTH_DATABASE_URL: url })).toEqual({
      flags: `--database-url "$M2M_AUTH_DATABASE_URL" --data-dir ${dataDir}`,
      note: undefined,
    });
    // The master key from the environment: no data directory is needed, the key is.
    expect(connectionFlags(at(url), { M2M_AUTH_DATABASE_URL: url, M2M_AUTH_MASTER_KEY: 'k' })).toEqual({
      flags: '--database-url "$M2M_AUTH_DATABASE_URL"',
      note: 'with M2M_AUTH_MASTER_KEY set as it is here',
    });
  });
});
