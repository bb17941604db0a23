import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createBatchedLogDestination } from '../../src/http/log-destination.js';

/** The compiled module (`npm test` builds first), for the test that needs a process of its own. */
const BUILT_MODULE = fileURLToPath(new URL('../../dist/http/log-destination.js', import.meta.url));
const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function logFile() {
  const directory = mkdtempSync(join(tmpdir(), 'm2m-auth-log-'));
  directories.push(directory);
  const path = join(directory, 'out.log');
  return { fd: openSync(path, 'w'), read: () => readFileSync(path, 'utf8') };
}

const line = (n: number, pad = 0) => `${JSON.stringify({ n, pad: 'x'.repeat(pad) })}\n`;

describe('batched log destination', () => {
  it('holds small lines until flush, then writes all of them in order', () => {
    const file = logFile();
    const destination = createBatchedLogDestination({ fd: file.fd, batchBytes: 1024, flushIntervalMs: 60_000 });
    for (let n = 1; n <= 3; n += 1) destination.stream.write(line(n));
    expect(file.read()).toBe('');
    destination.flush();
    expect(file.read()).toBe(line(1) + line(2) + line(3));
  });

  it('writes a full batch at once, without waiting for the interval', () => {
    const file = logFile();
    const destination = createBatchedLogDestination({ fd: file.fd, batchBytes: 100, flushIntervalMs: 60_000 });
    const lines = [line(1, 40), line(2, 40), line(3, 40)];
    for (const text of lines) destination.stream.write(text);
    // The first two lines fill a batch and are written; the third waits for the next one.
    expect(file.read()).toBe(lines[0]! + lines[1]!);
    destination.flush();
    expect(file.read()).toBe(lines.join(''));
  });

  it('writes lines on the interval when the server is quiet', async () => {
    const file = logFile();
    const destination = createBatchedLogDestination({ fd: file.fd, flushIntervalMs: 20 });
    destination.stream.write(line(1));
    await expect.poll(file.read, { timeout: 2000 }).toBe(line(1));
  });

  it('loses no line when the process exits right after flush, even with a busy threadpool (as on SIGTERM under RS256 load)', () => {
    const script = `
      import { pbkdf2 } from 'node:crypto';
      import { createBatchedLogDestination } from ${JSON.stringify(pathToFileURL(BUILT_MODULE).href)};
      pbkdf2('busy', 'threadpool', 2000000, 32, 'sha256', () => {});
      const destination = createBatchedLogDestination({ batchBytes: 120 });
      for (let n = 1; n <= 5; n += 1) destination.stream.write(JSON.stringify({ n, pad: 'x'.repeat(40) }) + '\\n');
      destination.flush();
      process.exit(0);`;
    const { stdout, status } = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, UV_THREADPOOL_SIZE: '1' },
    });
    expect(status).toBe(0);
    expect(
      stdout
        .trim()
        .split('\n')
        .map((text) => JSON.parse(text).n),
    ).toEqual([1, 2, 3, 4, 5]);
  });
});
