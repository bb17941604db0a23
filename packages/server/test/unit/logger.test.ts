import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/http/logger.js';

function capture() {
  let text = '';
  const logger = createLogger('info', new Writable({ write: (chunk, _encoding, done) => ((text += String(chunk)), done()) }) as never);
  return { logger, text: () => text };
}

describe('logger', () => {
  it('censors every field name a credential could travel under', () => {
    const { logger, text } = capture();
    logger.info(
      {
        authorization: 'Basic c2VjcmV0',
        headers: { authorization: 'Bearer leak-1' },
        client_secret: 'leak-2',
        clientSecret: 'leak-3',
        sharedSecret: 'leak-4',
        access_token: 'leak-5',
        accessToken: 'leak-6',
        client_assertion: 'leak-7',
        token: 'leak-8',
        masterKey: 'leak-9',
        params: { client_secret: 'leak-10', client_assertion: 'leak-11', token: 'leak-12', scope: 'kept' },
        body: 'grant_type=client_credentials&client_secret=leak-13',
      },
      'credential fields',
    );
    const line = text();
    expect(line).not.toMatch(/leak-|c2VjcmV0/);
    expect(JSON.parse(line)).toMatchObject({ params: { scope: 'kept', client_secret: '[redacted]' }, token: '[redacted]' });
  });

  it('serialises a request as method, path and address only', () => {
    const { logger, text } = capture();
    logger.info({ req: { method: 'POST', url: '/oauth/token?x=1', ip: '127.0.0.1', headers: { authorization: 'Basic c2VjcmV0' } } }, 'request');
    expect(JSON.parse(text()).req).toEqual({ method: 'POST', path: '/oauth/token', remoteAddress: '127.0.0.1' });
  });
});
