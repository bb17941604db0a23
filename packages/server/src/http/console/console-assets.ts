import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The web console's built files (index.html and content-hashed `assets/*`), read once when the
 * server starts: a request is a Map lookup, never a file system call, and nothing outside the
 * directory can be named by a request path because only what was read at boot exists.
 */
export interface ConsoleAssets {
  /** By path below /console, without a leading slash (`index.html`, `assets/index-3f9a.js`). */
  readonly files: ReadonlyMap<string, ConsoleFile>;
}

export interface ConsoleFile {
  readonly body: Buffer;
  readonly contentType: string;
  /** A strong validator, so a revalidated index.html costs a 304 and no body. */
  readonly etag: string;
  /** Vite names what it puts under assets/ by content hash: such a file never changes. */
  readonly isImmutable: boolean;
}

/**
 * The package's own build: `dist/console` next to the compiled server, found from this module so it
 * holds from the source tree (`src/http/console/`), the build (`dist/http/console/`) and an
 * installed tarball alike.
 */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../../dist/console', import.meta.url));

/** Whether the console was built into `dir` (a server built without it serves no console). */
export function hasConsoleBuild(dir: string = DEFAULT_CONSOLE_DIR): boolean {
  return existsSync(join(dir, 'index.html'));
}

/** Bounds against a directory option that points somewhere else by mistake (`/`): the console is a few hundred KiB. */
const MAX_FILES = 2_000;
const MAX_TOTAL_BYTES = 64 * 1024 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

export class ConsoleAssetsError extends Error {
  override readonly name = 'ConsoleAssetsError';
}

/**
 * The built console in `directory`, or undefined when there is none (no index.html there: a server
 * built without the console still starts, and /console says so). Dot files and symbolic links are
 * left out; a directory past the bounds is refused with an error naming it.
 */
export function loadConsoleAssets(directory: string = DEFAULT_CONSOLE_DIR): ConsoleAssets | undefined {
  if (!existsSync(join(directory, 'index.html'))) return undefined;
  const files = new Map<string, ConsoleFile>();
  let totalBytes = 0;
  const walk = (relative: string) => {
    for (const entry of readdirSync(join(directory, relative), { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      if (!entry.isFile()) continue;
      totalBytes += statSync(join(directory, path)).size;
      if (files.size >= MAX_FILES || totalBytes > MAX_TOTAL_BYTES) {
        throw new ConsoleAssetsError(
          `${directory} holds more than ${MAX_FILES} files or ${MAX_TOTAL_BYTES / 1024 / 1024} MiB: is it the console's build directory?`,
        );
      }
      files.set(path, readConsoleFile(join(directory, path), path));
    }
  };
  walk('');
  return { files };
}

function readConsoleFile(file: string, path: string): ConsoleFile {
  const body = readFileSync(file);
  return {
    body,
    contentType: CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
    isImmutable: path.startsWith('assets/'),
  };
}
