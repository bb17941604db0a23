import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeBasicAuthorization } from '../../src/client-auth/client-credentials.js';
import { parseFormParams } from '../../src/protocol/form-params.js';
import { rejectRepeatedParameters, rejectUnstorableParameters } from '../../src/endpoints/parameter-checks.js';
import { parseScopeParameter } from '../../src/grants/scope.js';
import { OAuthError } from '../../src/errors/oauth-error.js';
import { echo, ECHO_MAX_CHARS, WITHHELD } from '../../src/errors/echo.js';

/** Properties of the parsers every request goes through, over inputs no one would write by hand. */

/** RFC 6749 Appendix B: application/x-www-form-urlencoded, space as '+'. */
const formUrlEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
const text = fc.string({ unit: 'grapheme', maxLength: 40 });

function oauthErrorOrValue<T>(run: () => T): T | OAuthError {
  try {
    return run();
  } catch (error) {
    if (error instanceof OAuthError) return error;
    throw error;
  }
}

describe('Basic credentials (RFC 6749 §2.3.1, Appendix B)', () => {
  it('decodes any id and secret a client encodes correctly, colons and non-ASCII included', () => {
    fc.assert(
      fc.property(
        text.filter((id) => id.length > 0),
        text,
        (clientId, secret) => {
          const header = `Basic ${Buffer.from(`${formUrlEncode(clientId)}:${formUrlEncode(secret)}`).toString('base64')}`;
          expect(decodeBasicAuthorization(header)).toEqual({ clientId, secret });
        },
      ),
    );
  });

  it('answers anything else with invalid_client (401, challenge), never another error', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `Basic ${s}`),
          fc.uint8Array().map((b) => `Basic ${Buffer.from(b).toString('base64')}`),
        ),
        (header) => {
          const result = oauthErrorOrValue(() => decodeBasicAuthorization(header));
          if (result instanceof OAuthError) {
            expect(result.error).toBe('invalid_client');
            expect(result.status).toBe(401);
            expect(result.headers['www-authenticate']).toMatch(/^Basic /);
            // The description never carries what was sent.
            if (header.length > 12) expect(result.description).not.toContain(header.slice(6));
          } else {
            expect(result.clientId.length).toBeGreaterThan(0);
          }
        },
      ),
    );
  });
});

describe('form bodies (RFC 6749 §3.2)', () => {
  const pairs = fc.array(fc.tuple(fc.constantFrom('grant_type', 'scope', 'audience', 'client_id', 'x'), text), { maxLength: 8 });

  it('reads the first value of each parameter, treats empty as omitted, and knows which were repeated', () => {
    fc.assert(
      fc.property(pairs, (list) => {
        const body = new URLSearchParams(list).toString();
        const params = parseFormParams(body);
        const names = new Set(list.map(([name]) => name));
        for (const name of names) {
          const first = list.find(([n]) => n === name)![1];
          expect(params.get(name)).toBe(first === '' ? undefined : first);
          expect(params.repeated.has(name)).toBe(list.filter(([n]) => n === name).length > 1);
        }
      }),
    );
  });

  it('rejects a repeated parameter with invalid_request, whatever else the body holds', () => {
    fc.assert(
      fc.property(pairs, (list) => {
        const params = parseFormParams(new URLSearchParams(list).toString());
        const result = oauthErrorOrValue(() => rejectRepeatedParameters(params, ['grant_type', 'scope']));
        const repeated = ['grant_type', 'scope'].some((name) => list.filter(([n]) => n === name).length > 1);
        if (repeated) expect(result).toMatchObject({ error: 'invalid_request', status: 400 });
        else expect(result).toBeUndefined();
      }),
    );
  });

  it('refuses a looked-up parameter holding a NUL byte (%00) with invalid_request, and only then', () => {
    const value = fc.oneof(
      text,
      fc.tuple(text, text).map(([a, b]) => `${a}\u0000${b}`),
    );
    fc.assert(
      fc.property(value, value, (audience, other) => {
        const params = parseFormParams(`audience=${formUrlEncode(audience)}&other=${formUrlEncode(other)}`);
        const result = oauthErrorOrValue(() => rejectUnstorableParameters(params, ['audience', 'scope']));
        if (audience.includes('\u0000')) expect(result).toMatchObject({ error: 'invalid_request', status: 400 });
        else expect(result).toBeUndefined();
      }),
    );
  });

  it('never throws on any body', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (body) => void parseFormParams(body)));
  });
});

describe('scope strings (RFC 6749 §3.3)', () => {
  const scopeToken = fc
    .string({ unit: fc.constantFrom(..."!#$%&'()*+,-./0123456789:;<=>?@ABCZ[]^_`az{|}~"), minLength: 1, maxLength: 12 })
    .filter((token) => !token.includes('\\'));

  it('splits on spaces, drops duplicates, keeps the first order', () => {
    fc.assert(
      fc.property(fc.array(scopeToken, { maxLength: 8 }), fc.constantFrom(' ', '  '), (tokens, separator) => {
        expect(parseScopeParameter(tokens.join(separator))).toEqual([...new Set(tokens)]);
      }),
    );
  });

  it('refuses any character outside scope-token with invalid_scope, never another error', () => {
    fc.assert(
      fc.property(scopeToken, fc.constantFrom('"', '\\', '\t', '\n', '\u0000', 'é', '\u007f'), (token, bad) => {
        expect(oauthErrorOrValue(() => parseScopeParameter(`${token}${bad}`))).toMatchObject({ error: 'invalid_scope' });
      }),
    );
  });
});

describe('echo', () => {
  // The shapes as first written (one regex each): the linear form must withhold exactly these.
  const SHAPES = [/m2msk_/, /eyJ[\w-]*\.[\w-]*/, /(?=[A-Za-z0-9_+/=-]*\d)(?=[A-Za-z0-9_+/=-]*[A-Za-z])[A-Za-z0-9_+/=-]{24,}/];
  const pieces = fc.constantFrom('m2msk_', 'eyJ', '.', 'a', 'Z', '7', '_', '-', ' ', '/', ':', 'x'.repeat(20), '0'.repeat(20));

  it('withholds exactly what looks like a credential', () => {
    fc.assert(
      fc.property(
        fc.array(pieces, { maxLength: 12 }).map((list) => list.join('')),
        (value) => {
          expect(echo(value) === WITHHELD).toBe(SHAPES.some((shape) => shape.test(value)));
        },
      ),
    );
  });

  it('judges a value of megabytes in one pass (a 4 MB field name once held the admin API for minutes)', () => {
    for (const value of ['x'.repeat(4 * 1024 * 1024), 'eyJ'.repeat(1024 * 1024), `${'x'.repeat(4 * 1024 * 1024)}1`]) {
      expect(echo(value)).toBe(value.endsWith('1') ? WITHHELD : `${value.slice(0, ECHO_MAX_CHARS)}… (${value.length} characters)`);
    }
  });

  it('keeps short values and cuts long ones so the whole value never comes back', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (value) => {
        const shown = echo(value);
        if (value.length <= ECHO_MAX_CHARS) expect(shown).toBe(value);
        else {
          expect(shown.length).toBeLessThan(ECHO_MAX_CHARS + 30);
          expect(shown).not.toContain(value);
        }
      }),
    );
  });
});
