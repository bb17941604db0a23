import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Starts a benchmark server as its own process (so the load generator never shares its event
 * loop) and waits until it answers. `readyLine` servers print one JSON line when listening.
 * `probe(url, signal)` replaces the default `fetch` of `probeUrl` (an https server whose CA the
 * harness's global fetch does not trust).
 */
export async function startChildServer({ command, args, env, readyLine = false, probeUrl, probe, timeoutMs = 30_000 }) {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', readyLine ? 'pipe' : 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise((_, reject) =>
    child.once('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited with ${code} before it was ready:\n${stderr}`))),
  );
  const ready = readyLine ? readJsonLine(child) : waitForHttp(probeUrl, timeoutMs, probe);
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`server not ready in ${timeoutMs} ms:\n${stderr}`)), timeoutMs).unref());
  const info = await Promise.race([ready, exited, timeout]).catch((error) => {
    child.kill('SIGKILL');
    throw error;
  });
  exited.catch(() => undefined);
  return {
    pid: child.pid,
    info,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(killer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

function readJsonLine(child) {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`expected a JSON ready line, got: ${line.slice(0, 200)}`));
      }
    });
  });
}

const fetchProbe = (url, signal) => fetch(url, { signal });

async function waitForHttp(url, timeoutMs, probe = fetchProbe) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      // Bounded: a server that accepts the connection before its app is ready would hold it open.
      await probe(url, AbortSignal.timeout(2_000));
      return {};
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${url} did not answer in ${timeoutMs} ms`);
}
