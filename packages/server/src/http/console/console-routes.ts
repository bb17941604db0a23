import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { problemResponse } from '../../errors/problem-details.js';
import { httpErrorAnswer, pathOf } from '../error-answers.js';
import { cacheHeaders } from '../cache-policy.js';
import { sendEndpointResponse as send } from '../send-endpoint-response.js';
import type { ConsoleAssets, ConsoleFile } from './console-assets.js';

export const CONSOLE_PREFIX = '/console';

/**
 * What every console answer carries, errors included. The console is a script that holds an admin
 * token in memory: only its own scripts and styles run (no inline script, no eval), it talks only
 * to its own origin, no other site may frame it or share its window, and it leaks no URL.
 */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** A year, the most caches honour: a hashed name is a new file when its content changes. */
const HASHED_ASSET_CACHE = cacheHeaders({ publicMaxAgeSeconds: 31_536_000, immutable: true });
const REVALIDATED_CACHE = cacheHeaders('no-cache');
const SERVED_METHODS = 'GET, HEAD';

/**
 * The web console under /console, on whichever listener serves the admin API: `index.html` at
 * /console and /console/, its files below; any other path under /console is a 404. Without a build
 * every path answers a 404 that says the console was not built.
 */
export function registerConsole(app: FastifyInstance, assets: ConsoleAssets | undefined): void {
  app.register(
    async (routes) => {
      routes.addHook('onRequest', (_request, reply, done) => {
        reply.headers(CONSOLE_SECURITY_HEADERS);
        done();
      });
      const serve = assets ? serveFrom(assets) : answerNotBuilt;
      routes.get('/', serve);
      routes.get('/*', serve);
      // Other methods on console paths: 405 with the console's headers too.
      routes.setNotFoundHandler((request, reply) =>
        send(reply, httpErrorAnswer(pathOf(request.url), 405, `This resource accepts ${SERVED_METHODS}.`, { allow: SERVED_METHODS })),
      );
    },
    { prefix: CONSOLE_PREFIX },
  );
}

function serveFrom(assets: ConsoleAssets) {
  const index = assets.files.get('index.html')!;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const path = (request.params as { '*'?: string })['*'] ?? '';
    const file = path === '' ? index : assets.files.get(path);
    if (!file) return send(reply, httpErrorAnswer(pathOf(request.url), 404, 'No such resource.'));
    return sendFile(request, reply, file);
  };
}

function sendFile(request: FastifyRequest, reply: FastifyReply, file: ConsoleFile) {
  reply
    .removeHeader('pragma')
    .headers(file.isImmutable ? HASHED_ASSET_CACHE : REVALIDATED_CACHE)
    .header('etag', file.etag);
  if (isFresh(request.headers['if-none-match'], file.etag)) return reply.code(304).send();
  return reply.type(file.contentType).send(file.body);
}

/** RFC 9110 §13.1.2: a list of entity tags, or `*`; weak tags compare equal to strong ones here. */
function isFresh(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === etag || tag === '*');
}

function answerNotBuilt(_request: FastifyRequest, reply: FastifyReply) {
  return send(
    reply,
    problemResponse({
      status: 404,
      code: 'console-not-built',
      title: 'Console not built',
      detail: 'This server was built without the web console; the admin API answers as usual.',
    }),
  );
}
