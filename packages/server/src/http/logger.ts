import { pino, type Logger, type DestinationStream } from 'pino';

/**
 * JSON logs. Secrets stay out by construction: requests are serialised as method, path and
 * address only (never headers or bodies), and the redact list is a second line of defence for
 * any field name that could carry a credential.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'm2m-auth', pid: process.pid },
      // pino's default epoch-milliseconds `time`: an ISO string costs a Date per line, and every
      // log pipeline (and pino-pretty) reads epoch times.
      serializers: {
        req: (req: { method?: string; url?: string; ip?: string; id?: string }) => ({
          method: req.method,
          path: req.url?.split('?')[0],
          remoteAddress: req.ip,
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
      // Top-level and explicit paths only: pino's wildcard paths (`*.x`) walk every object of
      // every line and cost ~7 µs per line, a tenth of a token's whole budget. Nothing we log
      // nests a credential (requests are serialised above; errors carry codes, not inputs), so
      // these are the second line of defence for the names a credential could travel under.
      redact: {
        paths: [
          'authorization',
          'headers.authorization',
          'req.headers.authorization',
          'client_secret',
          'clientSecret',
          'sharedSecret',
          'access_token',
          'accessToken',
          'client_assertion',
          'token',
          'masterKey',
          'params.client_secret',
          'params.client_assertion',
          'params.token',
          'body',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
