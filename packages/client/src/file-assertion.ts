import { readFile, stat } from 'node:fs/promises';
import { optionChecks } from './option-checks.js';
import type { ClientAssertionSource } from './token-client-options.js';

/**
 * A platform token kept in a file: a Kubernetes projected service-account token, or a JWT-SVID a
 * SPIFFE helper writes. Both are replaced while the workload runs — the kubelet swaps a `..data`
 * symlink to a new directory, the helper rewrites the file — so each read stats the path (following
 * symlinks) and reads the file again when its identity (device, inode, size, mtime, ctime) changed.
 * A stat per token request is cheap and sees every kind of replacement; a watcher would miss a
 * symlink swap above the watched file and hold a handle for the life of the process.
 */
export function fileAssertion(path: string): ClientAssertionSource {
  const check = optionChecks('fileAssertion');
  check.required(check.string(path, 'path'), 'path', 'where the platform writes the token');
  let known: { version: string; token: string } | undefined;
  return {
    async read() {
      const version = await fileVersion(path);
      if (known?.version === version) return known.token;
      // Read after the stat: a swap in between leaves a newer token under the older version, which the next stat corrects.
      const token = (await readFile(path, 'utf8').catch((error: unknown) => unreadable(path, error))).trim();
      if (token === '') throw new Error(`the client assertion file ${path} is empty`);
      known = { version, token };
      return token;
    },
    forget() {
      known = undefined;
    },
  };
}

async function fileVersion(path: string): Promise<string> {
  const info = await stat(path, { bigint: true }).catch((error: unknown) => unreadable(path, error));
  if (!info.isFile()) throw new Error(`the client assertion file ${path} is not a file`);
  return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
}

/** The path and the system's error code, never anything read from the file. */
function unreadable(path: string, error: unknown): never {
  const code = (error as NodeJS.ErrnoException).code;
  throw new Error(`the client assertion file ${path} could not be read${code ? ` (${code})` : ''}`);
}
