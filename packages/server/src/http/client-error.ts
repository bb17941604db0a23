import type { Duplex } from 'node:stream';
import { httpErrorAnswer, toRawHttpResponse } from './error-answers.js';

const DESCRIPTIONS: Record<number, string> = {
  400: 'The request is not valid HTTP.',
  408: 'The request took too long to arrive.',
  431: 'The request headers are too large.',
};

/**
 * Node's `clientError`: the request failed before there is a request object (unparsable HTTP,
 * headers over the size limit, a header or request timeout). Fastify's own handler answers
 * `{"error":"Bad Request",…}` without no-store; this one writes the same problem-details answer
 * as every other non-OAuth error (the path is unknown at this point) and closes the connection.
 */
export function answerClientError(error: Error & { code?: string; rawPacket?: unknown }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  // After a response has started there is nothing well-formed left to say: just close.
  const started = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  // A HEAD request gets the headers only (a body would be read as the start of the next answer).
  const isHead = Buffer.isBuffer(error.rawPacket) && error.rawPacket.subarray(0, 5).toString('latin1') === 'HEAD ';
  if (socket.writable && !started) socket.end(toRawHttpResponse(httpErrorAnswer(undefined, status, DESCRIPTIONS[status]!), { withBody: !isHead }));
  else socket.destroy();
}
