/**
 * Property-based tests (fast-check) of the parts that read untrusted input: the bearer-token
 * resolver (RFC 6750 §2), scope strings (RFC 6749 §3.3), the RFC 6750 §3 challenge, and compact
 * JWS parsing. Each property states the rule as an independent oracle and compares.
 */
import { validateHeaderValue } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuthError, checkScopes, createVerifier, extractBearerToken, isAuthError, toHttpResponse, type Principal } from '../src/index.js';
import { decodeCompactJws } from '../src/core/jws.js';
import { claimValues } from '../src/core/principal.js';
import { parseRequirement } from '../src/core/requirements.js';

/** RFC 6750 §2.1, as the issue states it. The SDK compares the scheme case-insensitively (RFC 9110 §11.1). */
const STRICT_BEARER = /^Bearer (?<token>[a-zA-Z0-9-._~+/]+=*)$/;
const B64TOKEN = /^[a-zA-Z0-9\-._~+/]+=*$/;
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const RUNS = { numRuns: 1000 };

type Outcome = { token: string } | { none: true } | { error: string };

function outcomeOf(run: () => string | undefined): Outcome {
  try {
    const token = run();
    return token === undefined ? { none: true } : { token };
  } catch (error) {
    if (!isAuthError(error)) throw error; // anything but an AuthError is a bug
    return { error: `${error.code}/${error.reason}` };
  }
}

/** What RFC 6750 and the README say the resolver does with one Authorization header. */
function expectedForHeader(header: string, maxLength: number): Outcome {
  if (header === '') return { none: true };
  const normalised = /^bearer/i.test(header) ? `Bearer${header.slice(6)}` : header;
  const token = STRICT_BEARER.exec(normalised)?.groups?.token;
  if (token !== undefined) return token.length > maxLength ? { error: 'invalid_token/token_too_large' } : { token };
  // A malformed Bearer header is a bad request; another scheme (Basic …) is not ours to judge.
  return /^bearer(\s|$)/i.test(header) ? { error: 'invalid_request/malformed_request' } : { none: true };
}

const b64token = fc.stringMatching(/^[a-zA-Z0-9\-._~+/]{1,40}={0,3}$/);
const scheme = fc.constantFrom('Bearer', 'bearer', 'BEARER', 'BeArEr', 'Basic', 'Bearerx', 'Token', 'DPoP');
const noise = fc.string({ unit: fc.constantFrom(' ', '\t', '=', '"', ',', 'a', 'Z', '9', '-', '.', '_', '~', '+', '/', 'é', '\u0000', '\n'), maxLength: 8 });
const header = fc.oneof(
  b64token.map((t) => `Bearer ${t}`),
  fc.tuple(scheme, fc.constantFrom(' ', '  ', '\t', ''), b64token, noise).map(([s, space, t, n]) => `${s}${space}${t}${n}`),
  fc.tuple(noise, scheme, noise).map(([a, s, b]) => `${a}${s}${b}`),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
);

describe('property: the bearer-token resolver (RFC 6750 §2)', () => {
  it('every Authorization header gets exactly the RFC 6750 answer: the token, no token, or 400', () => {
    fc.assert(
      fc.property(header, fc.integer({ min: 1, max: 60 }), (value, maxLength) => {
        expect(outcomeOf(() => extractBearerToken({ authorization: value }, { maxLength }))).toEqual(expectedForHeader(value, maxLength));
      }),
      RUNS,
    );
  });

  it('a well-formed header always yields its token, whatever the case of the scheme', () => {
    fc.assert(
      fc.property(b64token, fc.constantFrom('Bearer', 'bearer', 'BEARER', 'bEARER'), (token, name) => {
        expect(extractBearerToken({ authorization: `${name} ${token}` })).toBe(token);
      }),
      RUNS,
    );
  });

  it('body and query parameters: a b64token when enabled, ignored when not, 400 for anything else or a second place', () => {
    fc.assert(
      fc.property(
        fc.oneof(b64token, fc.anything()),
        fc.boolean(),
        fc.boolean(),
        fc.option(b64token, { nil: undefined }),
        (value, inBody, enabled, headerToken) => {
          const sources = { authorization: headerToken === undefined ? undefined : `Bearer ${headerToken}`, [inBody ? 'bodyToken' : 'queryToken']: value };
          const outcome = outcomeOf(() => extractBearerToken(sources, inBody ? { allowBody: enabled } : { allowQuery: enabled }));
          const counted = enabled && value !== undefined;
          const wellFormed = typeof value === 'string' && B64TOKEN.test(value);
          const expected: Outcome = !counted
            ? headerToken === undefined
              ? { none: true }
              : { token: headerToken }
            : headerToken !== undefined || !wellFormed
              ? { error: 'invalid_request/malformed_request' }
              : { token: value };
          expect(outcome).toEqual(expected);
        },
      ),
      RUNS,
    );
  });

  it('several Authorization headers are always a 400', () => {
    fc.assert(
      fc.property(fc.array(header, { minLength: 0, maxLength: 3 }), (values) => {
        expect(outcomeOf(() => extractBearerToken({ authorization: values }))).toEqual({ error: 'invalid_request/malformed_request' });
      }),
      { numRuns: 200 },
    );
  });
});

describe('property: scope strings (RFC 6749 §3.3)', () => {
  const scopeToken = fc.stringMatching(/^[\x21\x23-\x5b\x5d-\x7e]{1,12}$/);
  const smallScope = fc.constantFrom('a', 'b', 'c', 'read:orders', 'write:orders', 'admin');

  it('a requirement given as a string or as an array means the same list', () => {
    fc.assert(
      fc.property(fc.array(scopeToken, { minLength: 1, maxLength: 6 }), (list) => {
        const expected = [...new Set(list)];
        expect(parseRequirement(list, 'scopes')).toEqual(expected);
        expect(parseRequirement(list.join(' '), 'scopes')).toEqual(expected);
      }),
      RUNS,
    );
  });

  it('any string is accepted exactly when it is scope-tokens separated by single spaces, else a TypeError at set-up', () => {
    const candidate = fc.oneof(
      fc.array(scopeToken, { maxLength: 4 }).map((l) => l.join(' ')),
      fc.tuple(fc.array(scopeToken, { maxLength: 3 }), fc.constantFrom(' ', '  ', '\t', '"', '\\', 'é', '')).map(([l, sep]) => l.join(sep)),
      fc.string({ maxLength: 20 }),
    );
    fc.assert(
      fc.property(candidate, (value) => {
        const valid = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/.test(value);
        if (valid) expect(parseRequirement(value, 'scopes')).toEqual([...new Set(value.split(' '))]);
        else expect(() => parseRequirement(value, 'scopes')).toThrowError(TypeError);
      }),
      RUNS,
    );
  });

  it("checkScopes: 'all' passes iff required ⊆ granted, 'any' iff they meet; a refusal names exactly the required scopes", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(smallScope),
        fc.uniqueArray(smallScope, { minLength: 1 }),
        fc.constantFrom('all' as const, 'any' as const),
        (granted, required, match) => {
          const principal = { scopes: granted, authorities: granted } as unknown as Principal;
          const passes = match === 'all' ? required.every((s) => granted.includes(s)) : required.some((s) => granted.includes(s));
          let refusal: unknown;
          try {
            checkScopes(principal, required.join(' '), { match });
          } catch (error) {
            refusal = error;
          }
          expect(refusal === undefined).toBe(passes);
          if (refusal) {
            expect(refusal).toMatchObject({ code: 'insufficient_scope', status: 403, requiredScopes: required });
            expect(toHttpResponse(refusal as AuthError, 'api').headers['www-authenticate']).toContain(`scope="${required.join(' ')}"`);
          }
        },
      ),
      RUNS,
    );
  });

  it('a token’s scope claim reads back as the list it was made from, as a string or as an array', () => {
    fc.assert(
      fc.property(fc.array(scopeToken, { maxLength: 6 }), (list) => {
        expect(claimValues(list.join(' '))).toEqual(list);
        expect(claimValues(list)).toEqual(list);
        for (const value of claimValues(list.join(' '))) expect(value).toMatch(SCOPE_TOKEN);
      }),
      RUNS,
    );
  });
});

describe('property: RFC 6750 §3 challenges are always valid header values', () => {
  it('any realm and description give a quoted-string challenge Node will send', () => {
    const quoted = '"(?:[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\\\"])*"';
    const challenge = new RegExp(`^Bearer realm=${quoted}(, error=${quoted}, error_description=${quoted}(, scope=${quoted})?)?$`);
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.string({ unit: 'binary', maxLength: 80 }),
        fc.constantFrom('missing_token' as const, 'invalid_request' as const, 'invalid_token' as const, 'insufficient_scope' as const),
        (realm, description, code) => {
          const answer = toHttpResponse(new AuthError(code, description, 'malformed_token', code === 'insufficient_scope' ? ['a'] : []), realm);
          const value = answer.headers['www-authenticate']!;
          expect(value).toMatch(challenge);
          expect(() => validateHeaderValue('www-authenticate', value)).not.toThrow();
          expect(answer.body.error_description).toBe(description); // the JSON body keeps the text as it is
        },
      ),
      RUNS,
    );
  });
});

describe('property: compact JWS structure', () => {
  const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  const jsonObject = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 });

  it('three base64url JSON objects decode back to what was encoded', () => {
    fc.assert(
      fc.property(jsonObject, jsonObject, fc.uint8Array({ minLength: 1, maxLength: 80 }), (header, payload, signature) => {
        const token = `${b64(header)}.${b64(payload)}.${Buffer.from(signature).toString('base64url')}`;
        const decoded = decodeCompactJws(token);
        expect(decoded.header).toEqual(JSON.parse(JSON.stringify(header)));
        expect(decoded.payload).toEqual(JSON.parse(JSON.stringify(payload)));
        expect(Buffer.compare(decoded.signature, Buffer.from(signature))).toBe(0);
        expect(decoded.signingInput).toBe(token.slice(0, token.lastIndexOf('.')));
      }),
      RUNS,
    );
  });

  it('anything else is refused as malformed_token, and only that way', () => {
    const part = fc.oneof(
      fc.constant(''),
      fc.string({ unit: fc.constantFrom('A', 'b', '0', '-', '_', '+', '/', '=', ' ', '.'), maxLength: 12 }),
      fc.jsonValue({ maxDepth: 1 }).map(b64),
      jsonObject.map(b64),
    );
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 5 }), fc.string({ maxLength: 6 }), (parts, suffix) => {
        const token = parts.join('.') + suffix;
        let decoded: ReturnType<typeof decodeCompactJws> | undefined;
        try {
          decoded = decodeCompactJws(token);
        } catch (error) {
          expect(error).toMatchObject({ name: 'AuthError', code: 'invalid_token', reason: 'malformed_token' });
          return;
        }
        // Accepted: then it is exactly three non-empty base64url segments holding JSON objects.
        const segments = token.split('.');
        expect(segments).toHaveLength(3);
        for (const segment of segments) expect(segment).toMatch(/^[A-Za-z0-9_-]+$/);
        for (const segment of segments) expect(segment.length % 4).not.toBe(1);
        expect(typeof decoded.header).toBe('object');
        expect(Array.isArray(decoded.payload)).toBe(false);
      }),
      RUNS,
    );
  });

  it('the verifier answers any string, and any JWT-shaped junk, with an AuthError — never a crash, never an accept', async () => {
    const issuer = 'https://auth.example';
    const verifier = createVerifier({
      issuer,
      audience: 'https://payments.example',
      jwksUri: `${issuer}/jwks`,
      cache: false,
      verifyOn: 'event-loop',
      fetch: async () =>
        new Response(
          JSON.stringify({
            keys: [{ kty: 'EC', crv: 'P-256', kid: 'k', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }],
          }),
          { headers: { 'content-type': 'application/json' } },
        ),
    });
    const header = fc.record(
      {
        alg: fc.oneof(fc.constantFrom('ES256', 'RS256', 'none', 'HS256'), fc.jsonValue({ maxDepth: 0 })),
        kid: fc.oneof(fc.constant('k'), fc.jsonValue({ maxDepth: 1 })),
        typ: fc.oneof(fc.constant('at+jwt'), fc.jsonValue({ maxDepth: 0 })),
        crit: fc.jsonValue({ maxDepth: 1 }),
      },
      { requiredKeys: [] },
    );
    const claims = fc.record(
      {
        iss: fc.oneof(fc.constant(issuer), fc.jsonValue({ maxDepth: 1 })),
        aud: fc.jsonValue({ maxDepth: 1 }),
        exp: fc.oneof(fc.integer(), fc.jsonValue({ maxDepth: 0 })),
        nbf: fc.jsonValue({ maxDepth: 0 }),
        iat: fc.jsonValue({ maxDepth: 0 }),
        scope: fc.jsonValue({ maxDepth: 1 }),
      },
      { requiredKeys: [] },
    );
    const token = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.tuple(header, claims, fc.uint8Array({ maxLength: 64 })).map(([h, c, s]) => `${b64(h)}.${b64(c)}.${Buffer.from(s).toString('base64url')}`),
    );
    await fc.assert(
      fc.asyncProperty(token, async (value) => {
        const outcome = await verifier.verify(value).then(
          () => 'accepted',
          (error: unknown) => (isAuthError(error) ? error.code : `crashed: ${String(error)}`),
        );
        expect(['invalid_token', 'invalid_request']).toContain(outcome);
      }),
      { numRuns: 500 },
    );
  });
});
