// payment-service: an Express API that accepts only tokens whose `aud` is its own identifier.
// Charging needs `payments:write`; refunds need `payments:refund`, which nobody was granted.
//
//   M2M_AUTH_ISSUER=http://127.0.0.1:8080 PORT=4002 node examples/demo/payment-service.mjs
import { randomUUID } from 'node:crypto';
import express from 'express';
import { createVerifier } from '@m2m-auth/resource-server';
import { requireAuth, requireScopes } from '@m2m-auth/resource-server/express';
import { listen, runAsMain } from './service-runtime.mjs';

export const PAYMENTS_API = 'https://payments.demo.example';

/** Starts the service on loopback; resolves with its URL and a close(). */
export async function startPaymentService({ issuer, port = 0, onEvent }) {
  // One verifier: one JWKS cache and one verified-token cache for every route.
  const verifier = createVerifier({ issuer, audience: PAYMENTS_API, realm: 'payments', jwks: { prefetch: true }, onEvent });
  await verifier.prefetch();
  const app = express();
  app.use(express.json());
  app.get('/health', (_req, res) => res.json({ ok: true }));
  app.post('/charges', requireAuth(verifier), requireScopes('payments:write'), (req, res) =>
    res.status(201).json({ charge_id: `ch_${randomUUID().slice(0, 8)}`, amount: req.body?.amount ?? 0, ...whoCalled(req.auth) }),
  );
  app.post('/refunds', requireAuth(verifier), requireScopes('payments:refund'), (req, res) =>
    res.status(201).json({ refund_id: `rf_${randomUUID().slice(0, 8)}`, ...whoCalled(req.auth) }),
  );
  return listen(app, port, 'payment-service');
}

/** What the service learnt from the token: the caller, and which token it was (its jti, never the token). */
export function whoCalled(auth) {
  return { caller: auth.clientId, scopes: auth.scopes, token: { jti: auth.tokenId, expires_at: auth.expiresAt } };
}

await runAsMain(import.meta.url, () =>
  startPaymentService({ issuer: process.env.M2M_AUTH_ISSUER ?? 'http://127.0.0.1:8080', port: Number(process.env.PORT ?? 4002) }),
);
