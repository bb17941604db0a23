#!/usr/bin/env node
// The protected API of the DPoP bench: Express with the resource-server SDK, one route for bearer
// tokens (its default verified-token cache on, and off) and one that accepts only DPoP-bound
// tokens, so a bearer call and a DPoP call cost exactly what each path costs.
//   /bearer            m2m-auth SDK, cache on
//   /bearer-uncached   m2m-auth SDK, cache off: the signature checked on every request
//   /dpop              m2m-auth SDK, DPoP required: the token from the cache, the proof checked on every request
// env: ISSUER, AUDIENCE, PORT, PROOF_WINDOW (seconds). Prints one JSON ready line.
import express from 'express';
import { requireAuth } from '@m2m-auth/resource-server/express';

const { ISSUER, AUDIENCE } = process.env;
const PORT = Number(process.env.PORT);
const app = express();
const subjectOf = (req, res) => res.json({ subject: req.auth.subject });
app.get('/bearer', requireAuth({ issuer: ISSUER, audience: AUDIENCE }), subjectOf);
app.get('/bearer-uncached', requireAuth({ issuer: ISSUER, audience: AUDIENCE, cache: false }), subjectOf);
app.get(
  '/dpop',
  requireAuth({ issuer: ISSUER, audience: AUDIENCE, dpop: { required: true, proofWindowSeconds: Number(process.env.PROOF_WINDOW) } }),
  subjectOf,
);
const server = await new Promise((resolve) => {
  const listening = app.listen(PORT, '127.0.0.1', () => resolve(listening));
});
process.stdout.write(`${JSON.stringify({ ready: true, url: `http://127.0.0.1:${PORT}` })}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
