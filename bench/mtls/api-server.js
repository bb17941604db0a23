#!/usr/bin/env node
// The protected API of the mutual-TLS bench: Express with the resource-server SDK behind node:https
// asking every client for its certificate (requestCert; the token's binding is the check, so
// rejectUnauthorized is off, as docs/sender-constrained.md sets it up). Two routes, so a bearer
// call and a certificate-bound call cost exactly what each path costs; both keep the SDK's
// verified-token cache on, its default.
//   /bearer   m2m-auth SDK: an unbound token
//   /bound    m2m-auth SDK, mtls required: the token's cnf.x5t#S256 against the peer certificate
// env: ISSUER, AUDIENCE, PORT, TLS_CERT, TLS_KEY (PEM files); NODE_EXTRA_CA_CERTS for the issuer's
// CA, so the SDK's discovery and JWKS fetches trust it. Prints one JSON ready line.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import express from 'express';
import { requireAuth } from '@m2m-auth/resource-server/express';

const { ISSUER, AUDIENCE } = process.env;
const PORT = Number(process.env.PORT);
const app = express();
const subjectOf = (req, res) => res.json({ subject: req.auth.subject });
app.get('/bearer', requireAuth({ issuer: ISSUER, audience: AUDIENCE }), subjectOf);
app.get('/bound', requireAuth({ issuer: ISSUER, audience: AUDIENCE, mtls: { required: true } }), subjectOf);
const tls = {
  cert: readFileSync(process.env.TLS_CERT),
  key: readFileSync(process.env.TLS_KEY),
  requestCert: true,
  rejectUnauthorized: false,
};
const server = await new Promise((resolve) => {
  const listening = createServer(tls, app).listen(PORT, '127.0.0.1', () => resolve(listening));
});
process.stdout.write(`${JSON.stringify({ ready: true, url: `https://127.0.0.1:${PORT}` })}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
