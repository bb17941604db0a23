#!/usr/bin/env node
// Calls a protected API with a token from m2m-auth (or any provider), cached and refreshed.
//
//   M2M_AUTH_ISSUER=http://127.0.0.1:8080 CLIENT_ID=… CLIENT_SECRET=… \
//   AUDIENCE=https://orders.example API_URL=http://127.0.0.1:3000/orders \
//   node packages/client/examples/call-protected-api.mjs
import { createAuthFetch, createTokenClient, isTokenClientError } from '@m2m-auth/client';

const { M2M_AUTH_ISSUER, CLIENT_ID, CLIENT_SECRET, AUDIENCE, API_URL, SCOPE } = process.env;
if (!M2M_AUTH_ISSUER || !CLIENT_ID || !CLIENT_SECRET || !AUDIENCE || !API_URL) {
  console.error('set M2M_AUTH_ISSUER, CLIENT_ID, CLIENT_SECRET, AUDIENCE and API_URL (SCOPE is optional)');
  process.exit(2);
}

const client = createTokenClient({
  issuer: M2M_AUTH_ISSUER,
  clientId: CLIENT_ID,
  // A function, so a rotated secret in your secrets manager is picked up without a restart.
  clientSecret: async () => CLIENT_SECRET,
  audience: AUDIENCE,
  scope: SCOPE,
  onEvent: (event) => console.error(`[token] ${event.type}`),
});
const authFetch = createAuthFetch(client);

try {
  for (let i = 0; i < 3; i += 1) {
    const response = await authFetch(API_URL);
    console.log(`${response.status} ${await response.text()}`);
  }
} catch (error) {
  console.error(isTokenClientError(error) ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
} finally {
  client.close();
}
