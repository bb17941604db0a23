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
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: {
        req: (req: { method?: string; url?: string; ip?: string; id?: string }) => ({
          method: req.method,
          path: req.url?.split('?')[0],
          remoteAddress: req.ip,
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
      redact: {
        paths: [
          'authorization',
          'headers.authorization',
          '*.authorization',
          'client_secret',
          '*.client_secret',
          'clientSecret',
          '*.clientSecret',
          'sharedSecret',
          '*.sharedSecret',
          'access_token',
          '*.access_token',
          'accessToken',
          '*.accessToken',
          'client_assertion',
          '*.client_assertion',
          'token',
          '*.token',
          'masterKey',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
