// ledger-service: an Express API that records charges. Writing needs `ledger:append` on its own
// audience. Nobody calls it with a token of their own: payment-service exchanges the token its
// caller sent (RFC 8693), so each entry names whom it is for (the token's `sub`) and who acted
// (its `act` chain, which the resource-server SDK gives as `actors`, the most recent first).
//
//   M2M_AUTH_ISSUER=http://127.0.0.1:8080 PORT=4004 node examples/demo/ledger-service.mjs
import { randomUUID } from 'node:crypto';
import express from 'express';
import { createVerifier } from '@m2m-auth/resource-server';
import { requireAuth, requireScopes } from '@m2m-auth/resource-server/express';
import { listen, runAsMain } from './service-runtime.mjs';

export const LEDGER_API = 'https://ledger.demo.example';

export async function startLedgerService({ issuer, port = 0, onEvent }) {
  const verifier = createVerifier({ issuer, audience: LEDGER_API, realm: 'ledger', jwks: { prefetch: true }, onEvent });
  await verifier.prefetch();
  const entries = [];
  const app = express();
  app.use(express.json());
  app.get('/health', (_req, res) => res.json({ ok: true }));
  app.post('/entries', requireAuth(verifier), requireScopes('ledger:append'), (req, res) => {
    const entry = {
      entry_id: `le_${randomUUID().slice(0, 8)}`,
      charge_id: req.body?.charge_id,
      amount: req.body?.amount ?? 0,
      // For whom: the subject of the token, the order service — not the service that called.
      on_behalf_of: req.auth.subject,
      // Who acted: payment-service, which exchanged the order service's token for this one.
      actors: req.auth.actors.map((actor) => ({ subject: actor.subject, client_id: actor.clientId })),
      client_id: req.auth.clientId,
      scopes: req.auth.scopes,
    };
    entries.push(entry);
    res.status(201).json(entry);
  });
  app.get('/entries', requireAuth(verifier), requireScopes('ledger:read'), (_req, res) => res.json(entries));
  return listen(app, port, 'ledger-service');
}

await runAsMain(import.meta.url, () =>
  startLedgerService({ issuer: process.env.M2M_AUTH_ISSUER ?? 'http://127.0.0.1:8080', port: Number(process.env.PORT ?? 4004) }),
);
