import { Command, Option } from 'commander';
import { parseFormParams } from '../protocol/form-params.js';
import { resolveServerConfig } from '../config/server-config.js';
import { withCliContext } from './cli-context.js';
import { remoteStore, reportStore } from './store-report.js';
import { action, fields, print, UsageError, withCommonOptions, type CommonOptions } from './output.js';

interface TokenOptions extends CommonOptions {
  client?: string;
  secret?: string;
  audience?: string;
  scope?: string;
  url?: string;
  issuer?: string;
}

/**
 * Gets a token the way a service would, for debugging: from a running server (--url) or, without
 * one, by running the token endpoint in this process on the data directory.
 */
export function tokenCommand(): Command {
  return withCommonOptions(new Command('token').description('get an access token for a client (debugging)'))
    .requiredOption('--client <client_id>', 'client id')
    .addOption(new Option('--secret <secret>', 'client secret (prefer the environment variable)').env('M2M_AUTH_CLIENT_SECRET'))
    .option('--audience <identifier>', 'API identifier (default: the client default API)')
    .option('--scope <scopes>', 'space-separated scopes (default: all granted)')
    .option('--url <url>', 'base URL of a running server; without it the token is issued in-process')
    .option('--issuer <url>', 'issuer for in-process tokens (default: as `serve` would use)')
    .action(
      action(async (options: TokenOptions) => {
        if (!options.secret) throw new UsageError('give the client secret with --secret or M2M_AUTH_CLIENT_SECRET');
        const form = new URLSearchParams({ grant_type: 'client_credentials' });
        if (options.audience) form.set('audience', options.audience);
        if (options.scope) form.set('scope', options.scope);
        const authorization = `Basic ${Buffer.from(`${encodeURIComponent(options.client!)}:${encodeURIComponent(options.secret)}`).toString('base64')}`;
        const { status, body } = options.url ? await requestOverHttp(options.url, authorization, form) : await requestInProcess(options, authorization, form);
        if (status !== 200) {
          process.exitCode = 1;
          process.stderr.write(`error: ${body.error}: ${body.error_description ?? ''}\n`);
          if (options.json) print(options, () => '', body);
          return;
        }
        print(
          options,
          () =>
            fields([
              ['access_token', body.access_token],
              ['token_type', body.token_type],
              ['expires_in', `${body.expires_in}s`],
              ['scope', body.scope],
            ]),
          body,
        );
      }),
    );
}

type TokenBody = Record<string, string | number>;

async function requestOverHttp(url: string, authorization: string, form: URLSearchParams) {
  let endpoint: URL;
  try {
    endpoint = new URL('/oauth/token', url);
  } catch {
    throw new UsageError(`--url: not a URL (${JSON.stringify(url.slice(0, 200))}); give the server's base URL, e.g. http://127.0.0.1:8080`);
  }
  reportStore(remoteStore(url));
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  });
  return { status: response.status, body: (await response.json()) as TokenBody };
}

async function requestInProcess(options: TokenOptions, authorization: string, form: URLSearchParams) {
  const [{ createLogger }, { createRuntime }] = await Promise.all([import('../http/logger.js'), import('../boot/create-runtime.js')]);
  return withCliContext(options, async ({ storage, masterKey }) => {
    const { issuer } = resolveServerConfig({ ...(options.issuer ? { issuer: options.issuer } : {}) }, process.env);
    const runtime = createRuntime({ storage, masterKey, issuer, logger: createLogger('silent') });
    const response = await runtime.token({ authorization, params: parseFormParams(form.toString()), remoteAddress: 'cli' });
    return { status: response.status, body: JSON.parse(response.body) as TokenBody };
  });
}
