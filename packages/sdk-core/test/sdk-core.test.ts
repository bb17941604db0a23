import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createOptionChecks, fetchIssuerMetadata, httpsOrigin, memoizeSuccess, safeListener } from '../src/index.js';

describe('createOptionChecks', () => {
  const check = createOptionChecks((message) => {
    throw new TypeError(message);
  });

  it('names the option and the type of a bad value, never the value', () => {
    expect(() => check.string('  ', 'clientId')).toThrow('clientId must be a non-empty string (got a blank string).');
    expect(() => check.oneOf('s3cr3t', 'mode', ['a', 'b'])).toThrow("mode must be one of 'a', 'b' (got another string).");
    expect(() => check.object({ secret: 1 }, 'options', ['known'])).toThrow('options has unknown option "secret" (known: known).');
  });
});

describe('memoizeSuccess', () => {
  it('shares one load between concurrent callers and forgets a failure', async () => {
    let calls = 0;
    const load = memoizeSuccess(async () => {
      calls += 1;
      if (calls === 1) throw new Error('down');
      return calls;
    });
    const [first, second] = await Promise.allSettled([load(), load()]);
    expect(first).toMatchObject({ status: 'rejected' });
    expect(second).toMatchObject({ status: 'rejected' });
    expect(calls).toBe(1);
    await expect(load()).resolves.toBe(2);
    await expect(load()).resolves.toBe(2);
    expect(calls).toBe(2);
  });
});

describe('safeListener', () => {
  it('swallows what a listener throws', () => {
    const seen: number[] = [];
    safeListener<number>((event) => {
      seen.push(event);
      throw new Error('listener bug');
    })(1);
    expect(seen).toEqual([1]);
    expect(() => safeListener<number>(undefined)(2)).not.toThrow();
  });
});

describe('httpsOrigin', () => {
  it('adds https:// to a host and keeps an http(s) URL, without trailing slashes', () => {
    expect(httpsOrigin('tenant.auth0.com/')).toBe('https://tenant.auth0.com');
    expect(httpsOrigin('http://127.0.0.1:8080//')).toBe('http://127.0.0.1:8080');
  });
});

describe('fetchIssuerMetadata', () => {
  it('falls back to OpenID configuration and refuses a document naming another issuer', async () => {
    let issuer = '';
    let named = '';
    const server = createServer((req, res) => {
      if (req.url === '/.well-known/openid-configuration') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ issuer: named, token_endpoint: `${issuer}/token` }));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      named = issuer;
      await expect(fetchIssuerMetadata(`${issuer}/`, fetch, 2000)).resolves.toMatchObject({ token_endpoint: `${issuer}/token` });
      named = 'https://someone-else.example';
      await expect(fetchIssuerMetadata(issuer, fetch, 2000)).rejects.toThrow(/metadata names issuer https:\/\/someone-else\.example/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
