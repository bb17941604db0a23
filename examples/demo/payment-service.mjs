// payment-service: an Express API that accepts only tokens whose `aud` is its own identifier.
// Charging needs `payments:write`; refunds need `payments:refund`, which nobody was granted.
// Each charge is recorded in the ledger on the caller's behalf: when the caller's token carries
// `ledger:append`, payment-service exchanges it (RFC 8693, the client SDK's exchangeToken) for a
// ledger token that names the caller as its subject and payment-service as the actor.
//
//   M2M_AUTH_ISSUER=http://127.0.0.1:8080 CLIENT_ID=… CLIENT_SECRET_FILE=./payment-service.secret \
//   LEDGER_URL=http://127.0.0.1:4004 PORT=4002 node examples/demo/payment-service.mjs
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import express from 'express';
import { createTokenClient } from '@m2m-auth/client';
import { createVerifier } from '@m2m-auth/resource-server';
import { requireAuth, requireScopes } from '@m2m-auth/resource-server/express';
import { LEDGER_API } from './ledger-service.mjs';
import { listen, runAsMain } from './service-runtime.mjs';

export const PAYMENTS_API = 'https://payments.demo.example';

/** Starts the service on loopback; resolves with its URL and a close(). Without a client id it records nothing in the ledger. */
export async function startPaymentService({ issuer, port = 0, clientId, secretFile, ledgerUrl, onEvent }) {
  // One verifier: one JWKS cache and one verified-token cache for every route.
  const verifier = createVerifier({ issuer, audience: PAYMENTS_API, realm: 'payments', jwks: { prefetch: true }, onEvent });
  await verifier.prefetch();
  // Its own credentials, to exchange the tokens it receives: one exchanged token per incoming
  // token, cached while it lives, never refreshed in the background.
  const tokens = clientId ? createTokenClient({ issuer, clientId, clientSecret: async () => (await readFile(secretFile, 'utf8')).trim(), onEvent }) : undefined;
  const app = express();
  app.use(express.json());
  app.get('/health', (_req, res) => res.json({ ok: true }));
  app.post('/charges', requireAuth(verifier), requireScopes('payments:write'), async (req, res) => {
    const charge = { charge_id: `ch_${randomUUID().slice(0, 8)}`, amount: req.body?.amount ?? 0 };
    const ledger = await recordInLedger(req, charge);
    if (ledger?.error) return res.status(502).json(ledger);
    res.status(201).json({ ...charge, ...whoCalled(req.auth), ledger: ledger ?? null });
  });
  app.post('/refunds', requireAuth(verifier), requireScopes('payments:refund'), (req, res) =>
    res.status(201).json({ refund_id: `rf_${randomUUID().slice(0, 8)}`, ...whoCalled(req.auth) }),
  );

  /**
   * The caller's token, exchanged for one on the ledger: only a token that carries ledger:append
   * can become one that does (an exchange never widens), so a caller that did not ask for it is
   * charged without a ledger entry.
   */
  async function recordInLedger(req, charge) {
    if (!tokens || !ledgerUrl || !req.auth.scopes.includes('ledger:append')) return undefined;
    try {
      const subjectToken = req.headers.authorization.slice('Bearer '.length);
      const exchanged = await tokens.exchangeToken({ subjectToken, audience: LEDGER_API, scope: 'ledger:append' });
      const response = await fetch(`${ledgerUrl}/entries`, {
        method: 'POST',
        headers: { authorization: `Bearer ${exchanged.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(charge),
      });
      const body = await response.json().catch(() => undefined);
      if (response.ok) return body;
      return { error: 'ledger_refused', status: response.status, www_authenticate: response.headers.get('www-authenticate'), body };
    } catch (error) {
      return { error: error.code ?? 'exchange_failed', message: error.message };
    }
  }

  const server = await listen(app, port, 'payment-service');
  return { ...server, close: async () => (tokens?.close(), server.close()) };
}

/** What the service learnt from the token: the caller, and which token it was (its jti, never the token). */
export function whoCalled(auth) {
  return { caller: auth.clientId, scopes: auth.scopes, token: { jti: auth.tokenId, expires_at: auth.expiresAt } };
}

await runAsMain(import.meta.url, () =>
  startPaymentService({
    issuer: process.env.M2M_AUTH_ISSUER ?? 'http://127.0.0.1:8080',
    clientId: process.env.CLIENT_ID,
    secretFile: process.env.CLIENT_SECRET_FILE,
    ledgerUrl: process.env.LEDGER_URL ?? 'http://127.0.0.1:4004',
    port: Number(process.env.PORT ?? 4002),
  }),
);
