#!/usr/bin/env node
// m2m-auth's token endpoint core (the same runtime `m2m-auth serve` runs: SQLite registry, client
// authentication, grants, scopes, signing, the audit log line to /dev/null, metrics) answered
// straight from node:http, without Fastify. Not a product configuration: it exists so the
// benchmark shows what the framework costs, next to the full server and the bare reference.
//
// env: PORT, DATA_DIR (prepared by the CLI). Prints one JSON ready line.
import { openSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { createRuntime, openStorage } from '../../packages/server/dist/index.js';
import { createLogger } from '../../packages/server/dist/http/logger.js';
import { createBatchedLogDestination } from '../../packages/server/dist/http/log-destination.js';
import { readMasterKeyFile } from '../../packages/server/dist/keys/master-key.js';
import { parseFormParams } from '../../packages/server/dist/protocol/form-params.js';
import { DATABASE_FILE } from '../../packages/server/dist/config/server-config.js';

const port = Number(process.env.PORT);
const dataDir = process.env.DATA_DIR;
const issuer = `http://127.0.0.1:${port}`;
const logger = createLogger('info', createBatchedLogDestination({ fd: openSync('/dev/null', 'w') }).stream);
const storage = await openStorage({ kind: 'sqlite', path: join(dataDir, DATABASE_FILE) });
const runtime = createRuntime({ storage, masterKey: readMasterKeyFile(dataDir), issuer, logger });

const server = createServer((request, response) => {
  if (request.method !== 'POST' || request.url !== '/oauth/token') return send(response, { status: 404, headers: {}, body: '{}' });
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', async () => {
    const started = performance.now();
    const answer = await runtime.token({
      authorization: request.headers.authorization,
      params: parseFormParams(Buffer.concat(chunks).toString()),
      remoteAddress: request.socket.remoteAddress ?? '',
      requestId: crypto.randomUUID(),
    });
    runtime.metrics.observeRequest('token', answer.status, (performance.now() - started) / 1000);
    send(response, answer);
  });
});

function send(response, { status, headers, body }) {
  response.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

server.listen(port, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ ready: true, url: issuer, tokenPath: '/oauth/token' })}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
