import { resolve } from 'node:path';
import { parseDatabaseUrl, urlWithoutCredentials } from '../storage/open-storage.js';
import type { ConnectionConfig } from '../config/server-config.js';

/**
 * Which store a command read or wrote: the SQLite file, the PostgreSQL database or, with
 * `--server`, the remote server. Said on every run so a command pointed at the wrong place (a
 * working directory without the data, a forgotten M2M_AUTH_DATABASE_URL) shows it at once.
 * Locations never carry credentials.
 */
export interface StoreInUse {
  kind: 'sqlite' | 'postgres' | 'memory' | 'server';
  location: string;
}

/**
 * One command runs per process, so the report is the process's: `action()` starts it with the
 * output mode, the command names its store once known. Human output says it on stderr at once (so
 * it precedes a connection error); JSON output keeps stdout unchanged and adds it to the one JSON
 * line on stderr: `{"store": …}` after success, the error object's `store` member after a failure.
 */
let report: { json: boolean; store?: StoreInUse } = { json: false };

export function startStoreReport(json: boolean): void {
  report = { json };
}

export function reportStore(store: StoreInUse): void {
  report.store = store;
  if (!report.json) process.stderr.write(`store: ${store.kind} ${store.location}\n`);
}

export function reportedStore(): StoreInUse | undefined {
  return report.store;
}

export function localStore(connections: Pick<ConnectionConfig, 'database'>): StoreInUse {
  const location = parseDatabaseUrl(connections.database.url);
  if (location.kind === 'sqlite') return { kind: 'sqlite', location: location.path === ':memory:' ? location.path : resolve(location.path) };
  if (location.kind === 'memory') return { kind: 'memory', location: connections.database.url };
  return { kind: 'postgres', location: urlWithoutCredentials(connections.database.url) };
}

export function remoteStore(server: string): StoreInUse {
  return { kind: 'server', location: urlWithoutCredentials(server) };
}
