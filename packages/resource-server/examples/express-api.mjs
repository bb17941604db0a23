#!/usr/bin/env node
// An Express API that accepts only m2m-auth tokens for its audience, with scopes per route.
//
//   M2M_AUTH_ISSUER=http://127.0.0.1:8080 AUDIENCE=https://orders.example PORT=3000 \
//   node packages/resource-server/examples/express-api.mjs
import express from 'express';
import { createVerifier } from '@m2m-auth/resource-server';
import { requireAuth, requireScopes } from '@m2m-auth/resource-server/express';

const { M2M_AUTH_ISSUER = 'http://127.0.0.1:8080', AUDIENCE = 'https://orders.example', PORT = '3000' } = process.env;

// One verifier for the app: one JWKS cache and one verified-token cache shared by every route.
const verifier = createVerifier({
  issuer: M2M_AUTH_ISSUER,
  audience: AUDIENCE,
  jwks: { prefetch: true },
  onEvent: (event) => event.type === 'token.rejected' && console.warn(`rejected: ${event.reason} (client ${event.clientId ?? 'unknown'})`),
});

const app = express();
app.get('/health', (_req, res) => res.json({ ok: true }));
app.get('/orders', requireAuth(verifier), requireScopes(['read:orders']), (req, res) => res.json({ orders: [], caller: req.auth.clientId }));
app.post('/orders', requireAuth(verifier), requireScopes(['write:orders']), (req, res) => res.status(201).json({ created: true, caller: req.auth.clientId }));

app.listen(Number(PORT), '127.0.0.1', () => console.log(`orders API on http://127.0.0.1:${PORT} (issuer ${M2M_AUTH_ISSUER}, audience ${AUDIENCE})`));
