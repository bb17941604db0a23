import type { FastifyReply } from 'fastify';
import type { EndpointResponse } from '../protocol/endpoint-response.js';

/**
 * Writes a framework-free answer as is. JSON by default; an answer that names its own content
 * type (problem details) keeps it, since its headers are applied after the default.
 */
export function sendEndpointResponse(reply: FastifyReply, response: EndpointResponse) {
  return reply.code(response.status).type('application/json').headers(response.headers).send(response.body);
}
