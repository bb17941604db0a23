// inventory-service: a Fastify API; reading stock needs `inventory:read` on its own audience.
//
//   M2M_AUTH_ISSUER=http://127.0.0.1:8080 PORT=4003 node examples/demo/inventory-service.mjs
import Fastify from 'fastify';
import { createVerifier } from '@m2m-auth/resource-server';
import { requireAuth, requireScopes, resourceServer } from '@m2m-auth/resource-server/fastify';
import { whoCalled } from './payment-service.mjs';
import { runAsMain } from './service-runtime.mjs';

export const INVENTORY_API = 'https://inventory.demo.example';

const STOCK = { 'sku-espresso': 12, 'sku-grinder': 3 };

export async function startInventoryService({ issuer, port = 0, onEvent }) {
  const verifier = createVerifier({ issuer, audience: INVENTORY_API, realm: 'inventory', jwks: { prefetch: true }, onEvent });
  await verifier.prefetch();
  const app = Fastify({ logger: false });
  await app.register(resourceServer); // decorates request.auth
  app.get('/health', async () => ({ ok: true }));
  app.get('/stock/:sku', { preHandler: [requireAuth(verifier), requireScopes('inventory:read')] }, async (request, reply) => {
    const available = STOCK[request.params.sku];
    if (available === undefined) return reply.code(404).send({ error: 'unknown_sku' });
    return { sku: request.params.sku, available, ...whoCalled(request.auth) };
  });
  await app.listen({ port, host: '127.0.0.1' });
  const { port: bound } = app.server.address();
  return { name: 'inventory-service', url: `http://127.0.0.1:${bound}`, close: () => app.close() };
}

await runAsMain(import.meta.url, () =>
  startInventoryService({ issuer: process.env.M2M_AUTH_ISSUER ?? 'http://127.0.0.1:8080', port: Number(process.env.PORT ?? 4003) }),
);
