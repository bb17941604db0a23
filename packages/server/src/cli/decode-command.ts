import { Command } from 'commander';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { DatabaseMissingError, findMissingDatabase } from '../storage/open-storage.js';
import { localStore, reportStore } from './store-report.js';
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
  if (!kid) return 'not checked (no kid in the header)';
  // Decoding works without a database: where there is none, the signature is just not checked.
  const missing = await findMissingDatabase(connections.database);
  if (missing) return `not checked (${new DatabaseMissingError(missing).message})`;
  const store = localStore(connections);
  reportStore(store);
  const [{ createLogger }, { createRuntime }] = await Promise.all([import('../http/logger.js'), import('../boot/create-runtime.js')]);
  try {
    return await withConnections(connections, async ({ storage, masterKey }) => {
      const runtime = createRuntime({ storage, masterKey, issuer: 'http://127.0.0.1', logger: createLogger('silent') });
      const key = (await runtime.registry.keyRing()).verificationKey(kid);
      if (!key) return `not checked (key ${kid} is not in ${store.location})`;
      try {
        await jwtVerify(jwt, key.key, { algorithms: [key.alg], clockTolerance: Number.MAX_SAFE_INTEGER });
        return `valid (${key.alg}, key ${kid})`;
      } catch {
        return `INVALID for key ${kid}`;
      }
    });
  } catch (error) {
    // No master key for this database: the claims are still worth showing.
    if (error instanceof UsageError) return `not checked (${error.message.split('\n')[0]!.replace(/\.$/, '')})`;
    throw error;
  }
}
