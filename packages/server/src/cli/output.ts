import { type Command, InvalidArgumentError, Option } from 'commander';
import { AdminError } from '../errors/admin-error.js';
import { ConfigError } from '../config/server-config.js';
import { reportedStore, startStoreReport } from './store-report.js';

/** Options every data command takes. */
export interface CommonOptions {
  dataDir?: string;
  databaseUrl?: string;
  redisUrl?: string;
  json?: boolean;
}

/** Options of commands that manage the registry: they also work against a remote server. */
export interface ManagementOptions extends CommonOptions {
  server?: string;
}

export function withManagementOptions(command: Command): Command {
  return withCommonOptions(command).addOption(serverOption());
}

export function withCommonOptions(command: Command): Command {
  for (const option of commonOptions()) command.addOption(option);
  return command;
}

/**
 * The options every data command takes, and `--server` of the management commands: the program
 * takes them too (before the command), so `m2m-auth --help` lists them (see main.ts).
 */
export function commonOptions(): Option[] {
  return [
    new Option('--data-dir <dir>', 'data directory (default SQLite database and master key)').env('M2M_AUTH_DATA_DIR'),
    new Option('--database-url <url>', 'sqlite:<path> or postgres://… (default sqlite:<data-dir>/m2m-auth.db; env M2M_AUTH_DATABASE_URL)'),
    new Option('--redis-url <url>', 'redis://… shared state across instances (env M2M_AUTH_REDIS_URL)'),
    new Option('--json', 'print JSON instead of text'),
  ];
}

export function serverOption(): Option {
  return new Option(
    '--server <url>',
    'manage a remote m2m-auth through its admin API (credentials: M2M_AUTH_ADMIN_CLIENT_ID, M2M_AUTH_ADMIN_CLIENT_SECRET)',
  ).env('M2M_AUTH_SERVER');
}

/** Prints the JSON view with --json, the human text otherwise. */
export function print(options: CommonOptions, human: () => string, json: unknown): void {
  process.stdout.write(options.json ? `${JSON.stringify(json, null, 2)}\n` : `${human()}\n`);
}

/** A plain text table: header row, aligned columns. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  if (rows.length === 0) return '(none)';
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell))))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function fields(entries: [string, unknown][]): string {
  const width = Math.max(...entries.map(([label]) => label.length));
  return entries.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${Array.isArray(value) ? value.join(', ') || '-' : (value ?? '-')}`).join('\n');
}

/**
 * Runs an action; known errors become one clear line on stderr and exit code 1, never a stack.
 * With --json, stderr ends with one JSON line naming the store used: `{"store": …}`, or the error
 * object with a `store` member (see store-report.ts).
 */
export function action<A extends unknown[]>(run: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const options = args.find((arg): arg is CommonOptions => typeof arg === 'object' && arg !== null && 'json' in arg);
    const asJson = options?.json === true;
    startStoreReport(asJson);
    try {
      await run(...args);
    } catch (error) {
      reportError(error, asJson);
      process.exitCode = 1;
      return;
    }
    const store = reportedStore();
    if (asJson && store) process.stderr.write(`${JSON.stringify({ store })}\n`);
  };
}

/** One line on stderr for any failure: the message only (a stack helps nobody running a command). */
export function reportError(error: unknown, asJson: boolean): void {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof AdminError ? error.code : error instanceof ConfigError ? 'invalid_config' : error instanceof UsageError ? 'usage' : 'error';
  const store = reportedStore();
  if (asJson)
    process.stderr.write(
      `${JSON.stringify({ error: code, message, ...(error instanceof AdminError && error.field ? { field: error.field } : {}), ...(store ? { store } : {}) })}\n`,
    );
  else process.stderr.write(`error: ${message}\n`);
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseList(value: string): string[] {
  return value
    .split(/[,\s]+/)
    .map((item) => item.trim())
    .filter(Boolean);
}

/** Commander reports an InvalidArgumentError as `error: option '--x <n>' argument 'y' is invalid. …` and exits 1. */
export function parseInteger(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number.`);
    return Number(value);
  };
}
