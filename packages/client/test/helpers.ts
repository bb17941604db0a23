import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const START = Date.UTC(2026, 10, 24, 12, 0, 0);

export function createClock(start = START) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  form: Record<string, string>;
}

export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * A stand-in OAuth server on loopback. Each request is recorded and answered by `respond`, which
 * may return a promise (to hold an answer back until the test releases it).
 */
export async function startTokenServer(
  respond: (request: RecordedRequest, index: number) => Answer | Promise<Answer>,
  options: { metadataPath?: string; issuerPath?: string } = {},
) {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', async () => {
      const path = req.url ?? '';
      if (path.endsWith('/.well-known/oauth-authorization-server') && options.metadataPath !== undefined) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            issuer: `${base}${options.issuerPath ?? ''}`,
            token_endpoint: `${base}${options.metadataPath}`,
            token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
          }),
        );
        return;
      }
      const request = { method: req.method ?? '', path, headers: req.headers, form: Object.fromEntries(new URLSearchParams(raw)) };
      requests.push(request);
      const answer = await respond(request, requests.length - 1);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    tokenEndpoint: `${base}/token`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const tokenAnswer = (accessToken: string, expiresIn = 900, scope?: string): Answer => ({
  status: 200,
  body: { access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn, ...(scope ? { scope } : {}) },
  headers: { 'cache-control': 'no-store' },
});

/** A promise the test resolves by hand. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export const basicCredentials = (header: string | undefined) => {
  const decoded = Buffer.from((header ?? '').replace(/^Basic /, ''), 'base64').toString();
  const colon = decoded.indexOf(':');
  return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) };
};

/** A protected API that answers each call by a rule, and records the tokens and bodies it saw. */
export async function startProtectedApi(rule: (token: string | undefined, call: number) => { status: number; challenge?: string }) {
  const seen: Array<{ token: string | undefined; body: string }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const token = req.headers.authorization?.replace(/^Bearer /, '');
      seen.push({ token, body });
      const answer = rule(token, seen.length);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.challenge ? { 'www-authenticate': answer.challenge } : {}) });
      res.end(JSON.stringify({ status: answer.status }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
