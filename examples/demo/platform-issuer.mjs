// A workload platform on loopback, for the demo and the example tests: what a Kubernetes cluster,
// a CI provider or a SPIFFE agent shows the authorization server (an OIDC discovery document and a
// JWKS, or a trust bundle), and what it hands the workload — a short-lived signed token in a file,
// rewritten before it expires, as the kubelet does with a projected service-account token.
import { randomUUID } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

/**
 * Starts the issuer on 127.0.0.1. Its `issuer` (`http://127.0.0.1:port`) is the `iss` of its
 * tokens; `/.well-known/openid-configuration` and `/jwks` are what m2m-auth fetches to check them.
 */
export async function startPlatformIssuer({ alg = 'ES256' } = {}) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `platform-${randomUUID().slice(0, 8)}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };

  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const json = (body) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (path === '/.well-known/openid-configuration') {
      return json({
        issuer,
        jwks_uri: jwksUri,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: [alg],
      });
    }
    if (path === '/jwks') return json({ keys: [publicJwk] });
    response.writeHead(404).end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const jwksUri = `${issuer}/jwks`;
  const projections = new Set();

  /** A token with `iat`, `exp` (`lifetimeSeconds` ahead) and a fresh `jti`; `iss` unless `withoutIssuer` (a JWT-SVID needs none). */
  async function sign(claims, { lifetimeSeconds = 600, withoutIssuer = false } = {}) {
    const now = Math.floor(Date.now() / 1000);
    const payload = { ...(withoutIssuer ? {} : { iss: issuer }), iat: now, exp: now + lifetimeSeconds, jti: randomUUID(), ...claims };
    return new SignJWT(payload).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(privateKey);
  }

  return {
    issuer,
    jwksUri,
    /** The public keys, as `kubectl get --raw /openid/v1/jwks` prints a cluster's. */
    jwks: () => ({ keys: [publicJwk] }),
    /** A SPIFFE trust bundle: the same key marked for JWT-SVIDs, as `spire-server bundle show -format spiffe` prints it. */
    spiffeBundle: () => ({ keys: [{ ...publicJwk, use: 'jwt-svid' }], spiffe_sequence: 1, spiffe_refresh_hint: 300 }),
    sign,
    /**
     * Writes a token to `path` now and again every `refreshSeconds` (atomically: a reader never
     * sees half a file), each living `lifetimeSeconds`. `stop()` ends the rewriting; `writes`
     * counts them.
     */
    async project(path, claims, { lifetimeSeconds = 600, refreshSeconds = lifetimeSeconds * 0.8, signOptions = {} } = {}) {
      const write = async () => {
        const staging = `${path}.${process.pid}.tmp`;
        writeFileSync(staging, await sign(claims, { lifetimeSeconds, ...signOptions }), { mode: 0o600 });
        renameSync(staging, path);
        projection.writes += 1;
      };
      const projection = {
        writes: 0,
        stop: () => {
          clearInterval(timer);
          projections.delete(projection);
        },
      };
      await write();
      const timer = setInterval(() => write().catch(() => undefined), refreshSeconds * 1000);
      timer.unref();
      projections.add(projection);
      return projection;
    },
    close: () =>
      new Promise((resolve) => {
        for (const projection of projections) projection.stop();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
