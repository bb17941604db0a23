import { spawn, type SpawnOptions } from 'node:child_process';
import { CLI } from './cli-process.js';

/**
 * Runs `m2m-auth serve` expecting it to refuse to start. Resolves with its exit code and output;
 * if it prints the "running" banner instead, it is killed and `started` is true. The bound only
 * detects a hang. `wrapper` runs it through another program (e.g. setpriv with its arguments).
 */
export function serveExpectingFailure(args: string[], options: SpawnOptions & { wrapper?: string[] } = {}, bound = 20_000) {
  const { wrapper = [], ...spawnOptions } = options;
  const [command, ...prefix] = [...wrapper, process.execPath];
  const child = spawn(command!, [...prefix, CLI, 'serve', '--port', '0', ...args], { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let started = false;
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
    if (/is running/.test(stderr) && !started) {
      started = true;
      child.kill('SIGKILL');
    }
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string; started: boolean }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve neither started nor exited within ${bound} ms:\n${stderr}`));
    }, bound);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, started });
    });
  });
}
