import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The real CLI entry point (needs `npm run build`, which `npm test` runs first). */
export const CLI = fileURLToPath(new URL('../../bin/m2m-auth.js', import.meta.url));
const run = promisify(execFile);

export async function cli(args: string[], env: Record<string, string> = {}, options: { cwd?: string } = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 30_000, ...options });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/**
 * `m2m-auth init` with these flags: a new data directory (or PostgreSQL schema) gets its database
 * and master key, which the other management commands never create.
 */
export async function initStore(args: string[], env: Record<string, string> = {}): Promise<void> {
  const result = await cli(['init', ...args], env);
  if (result.code !== 0) throw new Error(`m2m-auth init ${args.join(' ')} failed: ${result.stderr}`);
}

export async function cliJson<T = Record<string, unknown>>(args: string[]): Promise<T> {
  const result = await cli([...args, '--json']);
  if (result.code !== 0) throw new Error(`m2m-auth ${args.join(' ')} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** Starts `m2m-auth serve` and resolves with its URL once the banner names it. */
export function startServeProcess(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ url: string; child: ChildProcess; stdout: () => string; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start:\n${stderr}`));
    }, 30_000);
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      const match = /listening:\s+(\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1]!, child, stdout: () => stdout, stderr: () => stderr });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${stderr}`));
    });
  });
}

export function waitForExit(child: ChildProcess): Promise<number | null> {
  // A process killed by a signal has no exit code, only a signal code: it has exited too.
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/**
 * Waits until the server's (batched) log holds a line matching `predicate` and returns it, so a
 * check that something is *not* logged runs after the request's own lines were written. The
 * bound only detects a line that never comes (the log flushes at least once a second).
 */
export async function waitForLogLine(
  stdout: () => string,
  predicate: (line: Record<string, unknown>) => boolean,
  bound = 10_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + bound;
  for (;;) {
    const found = logLines(stdout()).find(predicate);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching log line within ${bound} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The complete JSON lines of a log (a torn last line is left out). */
export function logLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{') && line.endsWith('}'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
