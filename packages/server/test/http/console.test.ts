import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { DEFAULT_CONSOLE_DIR, loadConsoleAssets, type ConsoleAssets } from '../../src/http/console/console-assets.js';
import { startServer, type RunningServer } from '../../src/http/start-server.js';

const INDEX = '<!doctype html><html><head><script type="module" src="/console/assets/index-3f9a1c.js"></script></head><body></body></html>';
const SCRIPT = 'console.log("console");';
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** A console build as Vite lays it out: index.html and content-hashed assets. */
function writeFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'm2m-auth-console-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'assets', 'index-3f9a1c.js'), SCRIPT);
  writeFileSync(join(dir, 'assets', 'index-77b0e2.css'), 'body{margin:0}');
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(dir, '.env'), 'SECRET=1');
  return dir;
}

function expectConsoleHeaders(headers: Record<string, unknown>) {
  expect(headers).toMatchObject({
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  });
  expect(headers['access-control-allow-origin']).toBeUndefined();
}

describe('the web console at /console', () => {
  let dir: string;
  let assets: ConsoleAssets;
  let t: TestApp;
  beforeAll(() => {
    dir = writeFixture();
    assets = loadConsoleAssets(dir)!;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => t?.close());

  it('answers index.html at /console and /console/, revalidated on every load', async () => {
    t = await createTestApp({ console: assets });
    for (const url of ['/console', '/console/', '/console/index.html']) {
      const response = await t.app.inject({ method: 'GET', url, headers: { origin: 'https://elsewhere.example' } });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.body).toBe(INDEX);
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.headers.pragma).toBeUndefined();
      expectConsoleHeaders(response.headers);
      const again = await t.app.inject({ method: 'GET', url, headers: { 'if-none-match': String(response.headers.etag) } });
      expect(again.statusCode).toBe(304);
      expect(again.body).toBe('');
    }
  });

  it('serves hashed assets for a year, immutable; other files revalidated', async () => {
    t = await createTestApp({ console: assets });
    const script = await t.app.inject({ method: 'GET', url: '/console/assets/index-3f9a1c.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(script.body).toBe(SCRIPT);
    expectConsoleHeaders(script.headers);
    const style = await t.app.inject({ method: 'GET', url: '/console/assets/index-77b0e2.css' });
    expect(style.headers['content-type']).toBe('text/css; charset=utf-8');
    const icon = await t.app.inject({ method: 'GET', url: '/console/favicon.svg' });
    expect([icon.statusCode, icon.headers['content-type'], icon.headers['cache-control']]).toEqual([200, 'image/svg+xml', 'no-cache']);
    const head = await t.app.inject({ method: 'HEAD', url: '/console/assets/index-3f9a1c.js' });
    expect([head.statusCode, head.body]).toEqual([200, '']);
  });

  it('files are read once at start: a change on disk afterwards is not served', async () => {
    t = await createTestApp({ console: assets });
    writeFileSync(join(dir, 'assets', 'index-3f9a1c.js'), 'changed();');
    writeFileSync(join(dir, 'assets', 'added-after-start.js'), 'added();');
    try {
      expect((await t.app.inject({ method: 'GET', url: '/console/assets/index-3f9a1c.js' })).body).toBe(SCRIPT);
      expect((await t.app.inject({ method: 'GET', url: '/console/assets/added-after-start.js' })).statusCode).toBe(404);
    } finally {
      writeFileSync(join(dir, 'assets', 'index-3f9a1c.js'), SCRIPT);
      rmSync(join(dir, 'assets', 'added-after-start.js'));
    }
  });

  it('any other path under /console is a 404 problem with the console headers, never cached; other methods 405', async () => {
    t = await createTestApp({ console: assets });
    for (const url of ['/console/clients', '/console/assets/missing.js', '/console/.env', '/console/assets/..%2f..%2fpackage.json', '/console/assets/']) {
      const response = await t.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.json()).toMatchObject({ type: 'urn:m2m-auth:problem:not-found', status: 404 });
      expect(response.body).not.toContain('SECRET');
      expectConsoleHeaders(response.headers);
    }
    const post = await t.app.inject({ method: 'POST', url: '/console', payload: 'x' });
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expectConsoleHeaders(post.headers);
    // A preflight gets no CORS grant: the console is same-origin only.
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/console/',
      headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.statusCode).toBe(405);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('a server built without the console starts, and /console says the console was not built', async () => {
    t = await createTestApp();
    for (const url of ['/console', '/console/', '/console/assets/index-3f9a1c.js']) {
      const response = await t.app.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ type: 'urn:m2m-auth:problem:console-not-built', title: 'Console not built' });
      expectConsoleHeaders(response.headers);
    }
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('admin API data answers are never stored by a cache', async () => {
    t = await createTestApp({ console: assets });
    const boot = await t.runtime.admin.bootstrapAdminClient();
    const token = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${btoa(`${boot.clientId}:${boot.clientSecret}`)}` },
      payload: 'grant_type=client_credentials&audience=urn%3Am2m-auth%3Aadmin',
    });
    const authorization = `Bearer ${token.json().access_token as string}`;
    for (const url of ['/admin/v1/apis', '/admin/v1/clients', '/admin/v1/keys', '/admin/v1/audit-events']) {
      const response = await t.app.inject({ method: 'GET', url, headers: { authorization } });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['cache-control'], url).toBe('no-store');
    }
  });
});

describe('loading the console build', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'm2m-auth-console-'));
    dirs.push(dir);
    return dir;
  };

  it('defaults to the package’s dist/console, from the source tree and the compiled module alike (so from an installed tarball too)', async () => {
    const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
    expect(DEFAULT_CONSOLE_DIR).toBe(join(packageRoot, 'dist', 'console'));
    const compiled = (await import(pathToFileURL(join(packageRoot, 'dist', 'http', 'console', 'console-assets.js')).href)) as { DEFAULT_CONSOLE_DIR: string };
    expect(compiled.DEFAULT_CONSOLE_DIR).toBe(join(packageRoot, 'dist', 'console'));
  });

  it('a directory without index.html (or none at all) is no console', () => {
    expect(loadConsoleAssets(tempDir())).toBeUndefined();
    expect(loadConsoleAssets(join(tempDir(), 'absent'))).toBeUndefined();
  });

  it('refuses, naming it, a directory far larger than a console build (an option pointed at the wrong place)', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'index.html'), INDEX);
    for (let i = 0; i < 2_001; i++) writeFileSync(join(dir, `file-${i}.txt`), '');
    expect(() => loadConsoleAssets(dir)).toThrow(new RegExp(`${dir}.*more than 2000 files`));
  });

  it('leaves out dot files and symbolic links, so nothing outside the build can be served', () => {
    const dir = writeFixture();
    dirs.push(dir);
    const outside = join(tempDir(), 'secret.txt');
    writeFileSync(outside, 'outside');
    symlinkSync(outside, join(dir, 'assets', 'link.txt'));
    const loaded = loadConsoleAssets(dir)!;
    expect([...loaded.files.keys()].sort()).toEqual(['assets/index-3f9a1c.js', 'assets/index-77b0e2.css', 'favicon.svg', 'index.html']);
  });
});

/** The console goes wherever the admin API goes: the main listener, the admin listener, or nowhere. */
describe('which listener serves /console', () => {
  let dir: string;
  let server: RunningServer | undefined;
  beforeAll(() => (dir = writeFixture()));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const get = async (url: string) => {
    const response = await fetch(url);
    return { status: response.status, csp: response.headers.get('content-security-policy'), body: await response.text() };
  };

  it('the main listener by default', async () => {
    server = await startServer({ storage: 'memory', port: 0, logger: 'silent', consoleDir: dir });
    expect(await get(`${server.url}/console/`)).toEqual({ status: 200, csp: CSP, body: INDEX });
  });

  it('the admin listener when the admin API has its own; not the main one', async () => {
    server = await startServer({ storage: 'memory', port: 0, logger: 'silent', consoleDir: dir, adminApi: { host: '127.0.0.1', port: 0 } });
    const adminOrigin = server.adminUrl!.replace(/\/admin\/v1$/, '');
    expect(await get(`${adminOrigin}/console`)).toEqual({ status: 200, csp: CSP, body: INDEX });
    expect((await get(`${adminOrigin}/console/assets/index-3f9a1c.js`)).body).toBe(SCRIPT);
    const main = await get(`${server.url}/console/`);
    expect([main.status, main.csp]).toEqual([404, null]);
  });

  it('nowhere without the admin API', async () => {
    server = await startServer({ storage: 'memory', port: 0, logger: 'silent', consoleDir: dir, adminApi: false });
    const main = await get(`${server.url}/console/`);
    expect([main.status, main.csp]).toEqual([404, null]);
  });
});
