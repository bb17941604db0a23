import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axe from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startServeProcess, waitForExit } from './cli-process.js';

/**
 * The console in a real browser: Debian's chromium driven by playwright-core (no browser download),
 * against `m2m-auth serve` as an operator starts it. Where chromium is missing the browser tests are
 * skipped — unless CI requires it (M2M_AUTH_REQUIRE_TOOLCHAINS=1; .ci/run installs it).
 */
export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

export function hasChromium(): boolean {
  const found = existsSync(CHROMIUM);
  if (!found && process.env.M2M_AUTH_REQUIRE_TOOLCHAINS === '1')
    throw new Error(`${CHROMIUM} is needed for the console's browser tests (M2M_AUTH_REQUIRE_TOOLCHAINS=1: CI must install the chromium package)`);
  if (!found) process.stderr.write(`console browser tests skipped: no ${CHROMIUM} (apt-get install chromium)\n`);
  return found;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, timeout: 30_000 });
}

export interface ConsoleServer {
  url: string;
  /** Where the first start said the console is. */
  consoleUrl: string;
  /** The admin client the first start printed on stderr. */
  admin: { clientId: string; clientSecret: string };
  close(): Promise<void>;
}

/** `m2m-auth serve` (with these flags) on a new data directory: its first start creates and prints an admin client. */
export async function startConsoleServer(flags: string[] = []): Promise<ConsoleServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-console-'));
  try {
    const server = await startServeProcess(['--port', '0', '--data-dir', dataDir, ...flags]);
    const clientId = /client_id:\s+(\S+)/.exec(server.stderr())?.[1];
    const clientSecret = /client_secret:\s+(\S+)/.exec(server.stderr())?.[1];
    if (!clientId || !clientSecret) throw new Error(`the first start printed no admin client:\n${server.stderr()}`);
    // The operator is told where the console is: the tests open it from what the first start printed.
    const consoleUrl = /^ {2}console: +(\S+)$/m.exec(server.stderr())?.[1];
    if (consoleUrl !== `${server.url}/console`) throw new Error(`the first start did not name the console at ${server.url}/console:\n${server.stderr()}`);
    return {
      url: server.url,
      consoleUrl,
      admin: { clientId, clientSecret },
      close: async () => {
        server.child.kill('SIGTERM');
        await waitForExit(server.child);
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * A page that records what must never happen in normal use: a Content-Security-Policy violation
 * (an inline script or style the build let through), an uncaught error, or a request that leaves
 * the server's origin (a CDN, a font service).
 */
export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  violations: string[];
  errors: string[];
  /** Everything the page wrote to the browser's console. */
  consoleMessages: string[];
  foreignRequests: string[];
}

export async function openWatchedPage(browser: Browser, origin: string, options: { viewport?: { width: number; height: number } } = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 900 }, permissions: [] });
  // Well inside the test's own timeout, so a missing element fails with its locator named.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const watched: WatchedPage = { page, context, violations: [], errors: [], consoleMessages: [], foreignRequests: [] };
  await page.exposeBinding('__reportViolation', (_source, text: string) => void watched.violations.push(text));
  // A page script (the test's tsconfig has no DOM types): reports each violation the moment it happens.
  await page.addInitScript(
    "document.addEventListener('securitypolicyviolation', (event) => window.__reportViolation(event.effectiveDirective + ' blocked ' + event.blockedURI));",
  );
  page.on('console', (message) => {
    watched.consoleMessages.push(message.text());
    if (/Content.Security.Policy/i.test(message.text())) watched.violations.push(message.text());
  });
  page.on('pageerror', (error) => watched.errors.push(error.message));
  page.on('request', (request) => {
    if (new URL(request.url()).origin !== origin) watched.foreignRequests.push(request.url());
  });
  return watched;
}

export async function signIn(page: Page, consoleUrl: string, clientId: string, secret: string): Promise<void> {
  await page.goto(consoleUrl);
  await page.getByLabel('Client id').fill(clientId);
  await page.getByLabel('Client secret').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Navigates by the console's own navigation and waits for the page's heading (which takes focus). */
export async function openConsolePage(page: Page, title: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: title, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
}

/**
 * axe-core's WCAG 2.1 A/AA rules and best practices on the page as it stands. The script is
 * evaluated through the DevTools protocol, which the page's CSP does not govern, so the CSP stays
 * as served. Returns the violations, each as `rule: selectors`.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate("typeof axe !== 'undefined'"))) await page.evaluate(axe.source);
  const options = { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } };
  const results = (await page.evaluate(`axe.run(document, ${JSON.stringify(options)})`)) as axe.AxeResults;
  return results.violations.map((violation) => `${violation.id} (${violation.help}): ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
}

/** A token of a client (client credentials, HTTP Basic), as a service would get it. */
export async function fetchToken(url: string, clientId: string, secret: string, audience: string): Promise<string> {
  const response = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', audience }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!response.ok || !body.access_token) throw new Error(`no token for ${clientId}: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** The admin API as the first admin client, to set up what a test shows in the console. */
export async function adminRequest<T = Record<string, unknown>>(server: ConsoleServer, method: string, path: string, body?: unknown): Promise<T> {
  const token = await fetchToken(server.url, server.admin.clientId, server.admin.clientSecret, 'urn:m2m-auth:admin');
  const response = await fetch(`${server.url}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}
