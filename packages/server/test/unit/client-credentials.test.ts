import { describe, expect, it } from 'vitest';
import { decodeBasicAuthorization, extractClientCredentials } from '../../src/client-auth/client-credentials.js';
import { parseFormParams } from '../../src/protocol/form-params.js';
import { OAuthError } from '../../src/errors/oauth-error.js';

const b64 = (value: string) => Buffer.from(value, 'utf8').toString('base64');

describe('decodeBasicAuthorization (RFC 6749 §2.3.1, Appendix B)', () => {
  it('form-urldecodes the id and the secret separately, so both may hold ":" and "+"', () => {
    expect(decodeBasicAuthorization(`Basic ${b64('svc%3Aa:s%2Bc+r%3At')}`)).toEqual({ clientId: 'svc:a', secret: 's+c r:t' });
    expect(decodeBasicAuthorization(`basic ${b64('id:pa:ss')}`)).toEqual({ clientId: 'id', secret: 'pa:ss' });
    expect(decodeBasicAuthorization(`Basic ${b64('%C3%A9t%C3%A9:x')}`)).toEqual({ clientId: 'été', secret: 'x' });
  });

  it.each([['Basic'], ['Basic !!!'], [`Basic ${b64('nocolon')}`], [`Basic ${b64(':secret')}`], [`Basic ${b64('%E0%A4%A:x')}`], ['Digest abc']])(
    'rejects %s as invalid_client',
    (header) => {
      expect(() => decodeBasicAuthorization(header)).toThrowError(expect.objectContaining({ error: 'invalid_client', status: 401 }));
    },
  );
});

describe('extractClientCredentials', () => {
  it('finds exactly one method', () => {
    expect(extractClientCredentials(undefined, parseFormParams('client_id=a&client_secret=b'))).toEqual({
      method: 'client_secret_post',
      clientId: 'a',
      secret: 'b',
    });
    expect(extractClientCredentials(`Basic ${b64('a:b')}`, parseFormParams('client_id=a'))).toEqual({
      method: 'client_secret_basic',
      clientId: 'a',
      secret: 'b',
    });
    const assertion = extractClientCredentials(
      undefined,
      parseFormParams('client_assertion=x.y.z&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer'),
    );
    expect(assertion).toEqual({ method: 'private_key_jwt', clientId: undefined, assertion: 'x.y.z' });
  });

  it('refuses two methods and no method', () => {
    const both = () => extractClientCredentials(`Basic ${b64('a:b')}`, parseFormParams('client_secret=b'));
    expect(both).toThrowError(OAuthError);
    expect(both).toThrowError(expect.objectContaining({ error: 'invalid_request' }));
    expect(() => extractClientCredentials(undefined, parseFormParams('client_id=a'))).toThrowError(expect.objectContaining({ error: 'invalid_client' }));
  });
});

describe('parseFormParams', () => {
  it('remembers repeated names and treats empty values as absent', () => {
    const params = parseFormParams('a=1&a=2&b=&c=x+y');
    expect(params.repeated.has('a')).toBe(true);
    expect(params.get('a')).toBe('1');
    expect(params.get('b')).toBeUndefined();
    expect(params.get('c')).toBe('x y');
  });
});
