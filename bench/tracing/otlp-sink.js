#!/usr/bin/env node
// An OTLP/HTTP receiver that accepts every export and counts the spans in it, standing in for a
// collector on the same host. Its own process, so its work is charged neither to the server nor
// to the load generator. Prints one JSON ready line with its port; GET /count answers the totals.
import { createServer } from 'node:http';

let spans = 0;
let exports = 0;
let bytes = 0;
const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/count') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ spans, exports, bytes }));
    return;
  }
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk) => (body += chunk));
  request.on('end', () => {
    exports += 1;
    bytes += Buffer.byteLength(body);
    // Each span has one "spanId" member (its parent's is "parentSpanId"): counted without parsing.
    for (let at = body.indexOf('"spanId"'); at !== -1; at = body.indexOf('"spanId"', at + 8)) spans += 1;
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
