// Running m2m-auth for the demo the way an operator would: the project's own CLI
// (packages/server/bin/m2m-auth.js) with --data-dir and --json, and `serve` as a child process.
// `cli` points both at another copy of it, e.g. one installed from the tarballs (test/install).
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const CLI = fileURLToPath(new URL('../../packages/server/bin/m2m-auth.js', import.meta.url));
const run = promisify(execFile);

/** `m2m-auth <args> --data-dir <dir> --json`, parsed; a failure throws with the CLI's own message. */
export async function m2mAuth(dataDir, args, { cli = CLI } = {}) {
  try {
    const { stdout } = await run(process.execPath, [cli, ...args, '--data-dir', dataDir, '--json'], { timeout: 30_000 });
    return JSON.parse(stdout);
  } catch (error) {
    throw new Error(`m2m-auth ${args.join(' ')} failed: ${error.stderr?.trim() || error.message}`);
  }
}

/** A free loopback port, so the server can be stopped and started again at the same issuer URL. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Starts `m2m-auth serve`; resolves once the banner says it listens. */
export function startAuthServer({ dataDir, port, cli = CLI }) {
  const child = spawn(process.execPath, [cli, 'serve', '--data-dir', dataDir, '--port', String(port), '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`m2m-auth did not start:\n${stderr}`));
    }, 30_000);
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const url = /listening:\s+(\S+)/.exec(stderr)?.[1];
      if (!url) return;
      clearTimeout(timer);
      child.stderr.removeAllListeners('data');
      child.stderr.resume();
      resolve({
        url,
        pid: child.pid,
        /** SIGTERM (graceful shutdown), then wait for the process to end. */
        stop: async () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`m2m-auth exited with ${code}:\n${stderr}`));
    });
  });
}
