// order-service: a Fastify service that calls two others with tokens from the client SDK — one
// token per downstream audience, each with only the scope that call needs.
//
//   M2M_AUTH_ISSUER=http://127.0.0.1:8080 CLIENT_ID=… CLIENT_SECRET_FILE=./order-service.secret \
//   PAYMENTS_URL=http://127.0.0.1:4002 INVENTORY_URL=http://127.0.0.1:4003 PORT=4001 \
//   node examples/demo/order-service.mjs
import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { createAuthFetch, createTokenClient } from '@m2m-auth/client';
import { INVENTORY_API } from './inventory-service.mjs';
import { PAYMENTS_API } from './payment-service.mjs';
import { runAsMain } from './service-runtime.mjs';

export async function startOrderService({ issuer, clientId, secretFile, paymentsUrl, inventoryUrl, port = 0, refreshAhead, onEvent }) {
  const tokens = createTokenClient({
    issuer,
    clientId,
    // Read from the secret store (here a file) on first use and again after invalid_client, so a
    // rotated secret is picked up without a restart. Never in code.
    clientSecret: async () => (await readFile(secretFile, 'utf8')).trim(),
    refreshAhead,
    onEvent,
  });
  // One fetch per downstream API: its own audience, its own scopes, its own cached token.
  // ledger:append lets payment-service record the charge in the ledger on our behalf (it
  // exchanges this token for a ledger token: a scope this token lacks, it could not get).
  const payments = createAuthFetch(tokens.for({ audience: PAYMENTS_API, scope: 'payments:write ledger:append' }));
  const inventory = createAuthFetch(tokens.for({ audience: INVENTORY_API, scope: 'inventory:read' }));

  const app = Fastify({ logger: false });
  app.get('/health', async () => ({ ok: true }));

  app.post('/orders', async (request, reply) => {
    const { sku = 'sku-espresso', amount = 1200 } = request.body ?? {};
    const stock = await call('inventory-service', inventory, `${inventoryUrl}/stock/${encodeURIComponent(sku)}`);
    if (!stock.ok) return reply.code(502).send(stock.failure);
    if (stock.body.available < 1) return reply.code(409).send({ error: 'out_of_stock', sku });
    const payment = await call('payment-service', payments, `${paymentsUrl}/charges`, { method: 'POST', body: { amount } });
    if (!payment.ok) return reply.code(502).send(payment.failure);
    return reply.code(201).send({ order_id: `ord_${randomUUID().slice(0, 8)}`, sku, stock: stock.body, payment: payment.body });
  });

  // Refunds need `payments:refund`, which order-service was never granted: the payment service
  // answers 403 insufficient_scope, and we pass on what it said.
  app.post('/orders/:id/refund', async (request, reply) => {
    const refund = await call('payment-service', payments, `${paymentsUrl}/refunds`, { method: 'POST', body: { order_id: request.params.id } });
    if (!refund.ok) return reply.code(502).send(refund.failure);
    return reply.code(201).send(refund.body);
  });

  app.addHook('onClose', async () => tokens.close());
  await app.listen({ port, host: '127.0.0.1' });
  return { name: 'order-service', url: `http://127.0.0.1:${app.server.address().port}`, close: () => app.close() };
}

/** Calls a downstream service; a refusal comes back as data: its status, challenge and body. */
async function call(service, authFetch, url, { method = 'GET', body } = {}) {
  try {
    const response = await authFetch(url, { method, ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
    const payload = await response.json().catch(() => undefined);
    if (response.ok) return { ok: true, body: payload };
    return {
      ok: false,
      failure: { error: 'downstream_refused', service, status: response.status, www_authenticate: response.headers.get('www-authenticate'), body: payload },
    };
  } catch (error) {
    return {
      ok: false,
      failure: { error: 'downstream_unreachable', service, message: error.code ? `${error.code}: ${error.message}` : String(error.message ?? error) },
    };
  }
}

await runAsMain(import.meta.url, () =>
  startOrderService({
    issuer: process.env.M2M_AUTH_ISSUER ?? 'http://127.0.0.1:8080',
    clientId: process.env.CLIENT_ID,
    secretFile: process.env.CLIENT_SECRET_FILE,
    paymentsUrl: process.env.PAYMENTS_URL ?? 'http://127.0.0.1:4002',
    inventoryUrl: process.env.INVENTORY_URL ?? 'http://127.0.0.1:4003',
    port: Number(process.env.PORT ?? 4001),
  }),
);
