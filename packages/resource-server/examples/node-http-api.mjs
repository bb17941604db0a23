// A protected API on plain node:http (the pattern for any framework without an adapter):
//   M2M_AUTH_ISSUER=http://127.0.0.1:8080 AUDIENCE=https://orders.example \
//   node packages/resource-server/examples/node-http-api.mjs
// then: curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3002/orders
import { createServer } from 'node:http';
import { checkScopes, createVerifier, isAuthError, toHttpResponse } from '@m2m-auth/resource-server';

const verifier = createVerifier({ issuer: process.env.M2M_AUTH_ISSUER ?? 'http://127.0.0.1:8080', audience: process.env.AUDIENCE ?? 'https://orders.example' });

const server = createServer(async (req, res) => {
  try {
    const caller = await verifier.authenticate({ authorization: req.headers.authorization });
    checkScopes(caller, ['read:orders']);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ caller: caller.clientId, scopes: caller.scopes }));
  } catch (error) {
    if (!isAuthError(error)) {
      console.error(error);
      res.writeHead(500).end();
      return;
    }
    const answer = toHttpResponse(error, verifier.realm); // RFC 6750 status, WWW-Authenticate and body
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(answer.body));
  }
});
server.listen(Number(process.env.PORT ?? 3002), '127.0.0.1', () => console.error(`orders API on http://127.0.0.1:${server.address().port}`));
