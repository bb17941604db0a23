// reporting-service: a Fastify service with no secret at all. It authenticates to m2m-auth with
// the token its platform writes to a file (a Kubernetes projected service-account token here), and
// reads stock from inventory-service with the access token it gets for it.
//
//   M2M_AUTH_ISSUER=http://127.0.0.1:8080 PLATFORM_TOKEN_FILE=/var/run/secrets/tokens/m2m-auth \
//   INVENTORY_URL=http://127.0.0.1:4003 PORT=4004 node examples/demo/reporting-service.mjs
import Fastify from 'fastify';
import { createAuthFetch, createTokenClient, fileAssertion } from '@m2m-auth/client';
import { INVENTORY_API } from './inventory-service.mjs';
import { runAsMain } from './service-runtime.mjs';

const SKUS = ['sku-espresso', 'sku-grinder'];

export async function startReportingService({ issuer, tokenFile, inventoryUrl, port = 0, onEvent }) {
  const tokens = createTokenClient({
    issuer,
    // No client id, no secret: the platform token names the workload, and m2m-auth maps it to the
    // client whose federated credential it matches. The file is read again when the platform
    // rewrites it, so a rotated platform token is used without a restart.
    clientAssertion: { source: fileAssertion(tokenFile) },
    onEvent,
  });
  const inventory = createAuthFetch(tokens.for({ audience: INVENTORY_API, scope: 'inventory:read' }));

  const app = Fastify({ logger: false });
  app.get('/health', async () => ({ ok: true }));
  app.get('/report', async (_request, reply) => {
    const lines = [];
    for (const sku of SKUS) {
      const response = await inventory(`${inventoryUrl}/stock/${sku}`);
      const body = await response.json().catch(() => undefined);
      if (!response.ok) return reply.code(502).send({ error: 'downstream_refused', service: 'inventory-service', status: response.status, body });
      lines.push(body);
    }
    return { stock: lines.map(({ sku, available }) => ({ sku, available })), inventory_saw: { caller: lines[0].caller, scopes: lines[0].scopes } };
  });

  app.addHook('onClose', async () => tokens.close());
  await app.listen({ port, host: '127.0.0.1' });
  return { name: 'reporting-service', url: `http://127.0.0.1:${app.server.address().port}`, close: () => app.close() };
}

await runAsMain(import.meta.url, () =>
  startReportingService({
    issuer: process.env.M2M_AUTH_ISSUER ?? 'http://127.0.0.1:8080',
    tokenFile: process.env.PLATFORM_TOKEN_FILE,
    inventoryUrl: process.env.INVENTORY_URL ?? 'http://127.0.0.1:4003',
    port: Number(process.env.PORT ?? 4004),
  }),
);
