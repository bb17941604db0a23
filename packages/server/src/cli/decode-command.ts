import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { parseDatabaseUrl } from '../storage/open-storage.js';
import { resolveCliConnections, withConnections } from './cli-context.js';
import { action, print, UsageError, withCommonOptions, type CommonOptions } from './output.js';

/** Shows a JWT's header and claims, its time validity and, when the data directory holds its key, its signature. */
export function decodeCommand(): Command {
  return withCommonOptions(new Command('decode').description('show a JWT header and claims and whether it is valid').argument('<jwt>')).action(
    action(async (jwt: string, options: CommonOptions) => {
      let header;
      let claims;
      try {
        header = decodeProtectedHeader(jwt);
        claims = decodeJwt(jwt);
      } catch {
        throw new UsageError('not a JWT (expected three base64url parts separated by dots)');
      }
      const now = Math.floor(Date.now() / 1000);
      const problems: string[] = [];
      if (typeof claims.exp === 'number' && claims.exp <= now) problems.push(`expired ${now - claims.exp}s ago`);
      if (typeof claims.nbf === 'number' && claims.nbf > now) problems.push(`not valid for another ${claims.nbf - now}s`);
      const signature = await checkSignature(jwt, header.kid, options);
      const result = { header, claims, time_valid: problems.length === 0, time_problems: problems, signature };
      // "2026-11-26T22:32:20.000Z (12s ago)": absolute time, and how far from now.
      const when = (seconds: unknown) => {
        if (typeof seconds !== 'number') return '-';
        const delta = seconds - now;
        return `${new Date(seconds * 1000).toISOString()} (${delta >= 0 ? `in ${delta}s` : `${-delta}s ago`})`;
      };
      print(
        options,
        () =>
          `header:\n${JSON.stringify(header, null, 2)}\nclaims:\n${JSON.stringify(claims, null, 2)}\n` +
          `issued:    ${when(claims.iat)}\nexpires:   ${when(claims.exp)}\n` +
          `time:      ${problems.length ? problems.join('; ') : 'valid now'}\nsignature: ${signature}`,
        result,
      );
    }),
  );
}

async function checkSignature(jwt: string, kid: string | undefined, options: CommonOptions): Promise<string> {
  const connections = resolveCliConnections(options);
  const { dataDir } = connections;
  if (!kid) return 'not checked (no kid in the header)';
  // Decoding must not create an empty SQLite database (and keys) as a side effect.
  const location = parseDatabaseUrl(connections.database.url);
  if (location.kind === 'sqlite' && !existsSync(location.path)) return `not checked (no data directory at ${dataDir})`;
  const [{ createLogger }, { createRuntime }] = await Promise.all([import('../http/logger.js'), import('../boot/create-runtime.js')]);
  return withConnections(connections, async ({ storage, masterKey }) => {
    const runtime = createRuntime({ storage, masterKey, issuer: 'http://127.0.0.1', logger: createLogger('silent') });
    const key = (await runtime.registry.keyRing()).verificationKey(kid);
    if (!key) return `not checked (key ${kid} is not in ${dataDir})`;
    try {
      await jwtVerify(jwt, key.key, { algorithms: [key.alg], clockTolerance: Number.MAX_SAFE_INTEGER });
      return `valid (${key.alg}, key ${kid})`;
    } catch {
      return `INVALID for key ${kid}`;
    }
  });
}
