/**
 * Differential test: the SDK verifies JWS itself (node:crypto, for speed) instead of calling jose.
 * On a generated corpus — valid, tampered, mis-typed, expired, not yet valid, wrongly signed,
 * foreign issuer or audience, algorithm confusion (none, HS256 keyed with the RSA public key, kid
 * swaps), malformed segments — its verdict must equal jose's jwtVerify with the same options,
 * token by token. Keys are made once; tokens are signed synchronously with node:crypto so the
 * corpus can hold what no JWT library would produce.
 *
 * Aligned options: jose gets `requiredClaims: ['exp']` (the SDK requires exp) and a `maxTokenAge`
 * (the only way jose refuses an iat in the future, as the SDK does; it also makes jose require
 * iat, so every generated token carries one, valid or not).
 * Not generated, on purpose: characters outside base64url and `=` padding in a segment (jose's
 * atob fallback strips whitespace and accepts padding, the SDK refuses both per RFC 7515 §2), and
 * `crit: ["b64"]` (jose knows RFC 7797, the SDK refuses every crit, as RFC 7515 §4.1.11 lets a
 * recipient that does not implement the extension do). Those differences make the SDK stricter.
 */
import { constants, createHmac, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { createVerifier, type JwsAlgorithm } from '../src/index.js';

const NOW_SECONDS = 1_790_000_000;
const ISSUER = 'https://auth.example';
const AUDIENCE = 'https://payments.example';
const TOLERANCE = 5;
const ALGORITHMS: JwsAlgorithm[] = ['RS256', 'PS256', 'ES256', 'EdDSA', 'HS256'];

type KeyName = 'rsaA' | 'rsaB' | 'rsaWeak' | 'ec' | 'ecNoKid' | 'ed' | 'hmac';
interface TestKey {
  privateKey?: KeyObject;
  secret?: Buffer;
  jwk?: JWK;
}

/** Made once for the whole file: RSA generation is the slow part. */
function makeKeys(): Record<KeyName, TestKey> {
  const rsa = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits });
  const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = (key: KeyObject, extra: Record<string, unknown>) => ({ ...(key.export({ format: 'jwk' }) as JWK), use: 'sig', ...extra });
  const rsaA = rsa(2048);
  const rsaB = rsa(2048);
  const rsaWeak = rsa(1024);
  const ecKey = ec();
  const ecNoKid = ec();
  const ed = generateKeyPairSync('ed25519');
  return {
    rsaA: { privateKey: rsaA.privateKey, jwk: publicJwk(rsaA.publicKey, { kid: 'rsa-a' }) }, // no alg: RS* and PS*
    rsaB: { privateKey: rsaB.privateKey, jwk: publicJwk(rsaB.publicKey, { kid: 'rsa-b', alg: 'PS256' }) },
    rsaWeak: { privateKey: rsaWeak.privateKey, jwk: publicJwk(rsaWeak.publicKey, { kid: 'rsa-weak' }) },
    ec: { privateKey: ecKey.privateKey, jwk: publicJwk(ecKey.publicKey, { kid: 'ec', alg: 'ES256' }) },
    ecNoKid: { privateKey: ecNoKid.privateKey, jwk: publicJwk(ecNoKid.publicKey, {}) },
    ed: { privateKey: ed.privateKey, jwk: publicJwk(ed.publicKey, { kid: 'ed' }) },
    hmac: { secret: randomBytes(32) },
  };
}

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** A signature over `input` with this key, by the algorithm the key can do (`as` picks RS/PS for RSA). */
function signWith(key: TestKey, as: 'RS256' | 'PS256', input: string): Buffer {
  const data = Buffer.from(input);
  if (key.secret) return createHmac('sha256', key.secret).update(data).digest();
  const privateKey = key.privateKey!;
  if (privateKey.asymmetricKeyType === 'ed25519') return sign(null, data, privateKey);
  if (privateKey.asymmetricKeyType === 'ec') return sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  if (as === 'PS256') return sign('sha256', data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  return sign('sha256', data, privateKey);
}

/** The algorithm a key naturally signs with (what an honest issuer would put in the header). */
const naturalAlg: Record<KeyName, JwsAlgorithm> = { rsaA: 'RS256', rsaB: 'PS256', rsaWeak: 'RS256', ec: 'ES256', ecNoKid: 'ES256', ed: 'EdDSA', hmac: 'HS256' };
const naturalKid: Record<KeyName, string | undefined> = {
  rsaA: 'rsa-a',
  rsaB: 'rsa-b',
  rsaWeak: 'rsa-weak',
  ec: 'ec',
  ecNoKid: undefined,
  ed: 'ed',
  hmac: undefined,
};

const offset = fc.oneof(fc.integer({ min: -8, max: 8 }), fc.integer({ min: -4000, max: 4000 }));
const numericDate = (base: number) =>
  fc.oneof({ weight: 6, arbitrary: offset.map((d) => base + d) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(String(base), null, base + 0.5) });

/** One token's recipe. Weighted so that about a third of the corpus is accepted by both. */
const tokenSpec = fc.record({
  signer: fc.constantFrom<KeyName>('rsaA', 'rsaA', 'rsaB', 'rsaWeak', 'ec', 'ec', 'ecNoKid', 'ed', 'ed', 'hmac', 'hmac'),
  /** Header alg: the signer's own (honest), or another one (confusion, unsupported, none). */
  alg: fc.oneof(
    { weight: 8, arbitrary: fc.constant('natural') },
    { weight: 2, arbitrary: fc.constantFrom('RS256', 'PS256', 'ES256', 'EdDSA', 'HS256', 'none', 'RS384', 'ES384', 'HS512', 'NONE') },
  ),
  kid: fc.oneof(
    { weight: 8, arbitrary: fc.constant('natural') },
    { weight: 2, arbitrary: fc.constantFrom('rsa-a', 'rsa-b', 'rsa-weak', 'ec', 'ed', 'unknown', 'absent') },
  ),
  typ: fc.oneof(
    { weight: 8, arbitrary: fc.constant('at+jwt') },
    { weight: 2, arbitrary: fc.constantFrom<unknown>('application/at+jwt', 'AT+JWT', 'JWT', 'jwt', undefined, 42, 'at+jwt ') },
  ),
  iss: fc.oneof(
    { weight: 9, arbitrary: fc.constant<unknown>(ISSUER) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(`${ISSUER}/`, 'https://evil.example', undefined, 42, [ISSUER]) },
  ),
  aud: fc.oneof(
    { weight: 8, arbitrary: fc.constant<unknown>(AUDIENCE) },
    { weight: 2, arbitrary: fc.constantFrom<unknown>([AUDIENCE, 'other'], ['other'], 'other', undefined, [], [42, AUDIENCE], 7) },
  ),
  exp: fc.oneof(
    { weight: 7, arbitrary: fc.constant<unknown>(NOW_SECONDS + 600) },
    { weight: 3, arbitrary: fc.oneof(numericDate(NOW_SECONDS - TOLERANCE), fc.constant(undefined)) },
  ),
  nbf: fc.oneof({ weight: 7, arbitrary: fc.constant<unknown>(undefined) }, { weight: 3, arbitrary: numericDate(NOW_SECONDS + TOLERANCE) }),
  iat: fc.oneof({ weight: 7, arbitrary: fc.constant<unknown>(NOW_SECONDS - 30) }, { weight: 3, arbitrary: numericDate(NOW_SECONDS + TOLERANCE) }),
  crit: fc.oneof({ weight: 19, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  /** After signing: tamper with a part; before signing: make a segment the SDK must refuse to decode. */
  mutation: fc.oneof(
    { weight: 12, arbitrary: fc.constant('none') },
    { weight: 6, arbitrary: fc.constantFrom('flip-signature', 'flip-payload', 'flip-header', 'drop-signature', 'signature-of-other-payload') },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        'signed-extra-char-in-header',
        'signed-extra-char-in-payload',
        'signed-invalid-utf8-payload',
        'signed-bom-payload',
        'signed-array-payload',
        'signed-hmac-with-rsa-public-key',
      ),
    },
  ),
  position: fc.nat(),
});
type TokenSpec = typeof tokenSpec extends fc.Arbitrary<infer T> ? T : never;

function buildToken(spec: TokenSpec, keys: Record<KeyName, TestKey>): string {
  let signer = keys[spec.signer];
  let alg: string = spec.alg === 'natural' ? naturalAlg[spec.signer] : spec.alg;
  const kid = spec.kid === 'natural' ? naturalKid[spec.signer] : spec.kid === 'absent' ? undefined : spec.kid;
  if (spec.mutation === 'signed-hmac-with-rsa-public-key') {
    // The classic confusion: HS256 keyed with the issuer's published RSA key.
    alg = 'HS256';
    signer = { secret: Buffer.from(createPublicKey(keys.rsaA.privateKey!).export({ format: 'pem', type: 'spki' }) as string) };
  }
  const header: Record<string, unknown> = {
    alg,
    ...(kid !== undefined ? { kid } : {}),
    ...(spec.typ !== undefined ? { typ: spec.typ } : {}),
    ...(spec.crit ? { crit: ['exp'], exp: 1 } : {}),
  };
  const claims: Record<string, unknown> = {
    iss: spec.iss,
    aud: spec.aud,
    exp: spec.exp,
    nbf: spec.nbf,
    iat: spec.iat,
    sub: 'orders-service',
    scope: 'payments:read',
  };
  for (const name of Object.keys(claims)) if (claims[name] === undefined) delete claims[name];

  let encodedHeader = b64(JSON.stringify(header));
  let encodedPayload = b64(JSON.stringify(claims));
  if (spec.mutation === 'signed-extra-char-in-header') encodedHeader = lengthOneMod4(JSON.stringify(header));
  if (spec.mutation === 'signed-extra-char-in-payload') encodedPayload = lengthOneMod4(JSON.stringify(claims));
  if (spec.mutation === 'signed-invalid-utf8-payload')
    encodedPayload = b64(
      Buffer.concat([Buffer.from(JSON.stringify(claims).slice(0, -1)), Buffer.from(',"x":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
    );
  if (spec.mutation === 'signed-bom-payload') encodedPayload = b64(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(claims))]));
  if (spec.mutation === 'signed-array-payload') encodedPayload = b64(JSON.stringify([claims]));
  const signingInput = `${encodedHeader}.${encodedPayload}`;
  const signature = alg.toLowerCase() === 'none' ? Buffer.alloc(0) : signWith(signer, alg === 'PS256' ? 'PS256' : 'RS256', signingInput);
  let token = `${signingInput}.${b64(signature)}`;

  const [h, p, s] = token.split('.') as [string, string, string];
  const flip = (segment: string) => {
    if (segment.length === 0) return segment;
    const at = spec.position % segment.length;
    // Replace with another base64url character that changes the decoded bits (not only the unused trailing ones).
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const replacement = alphabet[(alphabet.indexOf(segment[at]!) + 32) % 64]!;
    return `${segment.slice(0, at)}${replacement}${segment.slice(at + 1)}`;
  };
  if (spec.mutation === 'flip-signature') token = `${h}.${p}.${flip(s)}`;
  if (spec.mutation === 'flip-payload') token = `${h}.${flip(p)}.${s}`;
  if (spec.mutation === 'flip-header') token = `${flip(h)}.${p}.${s}`;
  if (spec.mutation === 'drop-signature') token = `${h}.${p}.`;
  if (spec.mutation === 'signature-of-other-payload') token = `${h}.${b64(JSON.stringify({ ...claims, scope: 'payments:admin' }))}.${s}`;
  return token;
}

/**
 * JSON as a base64url segment one character too long to be base64 (length ≡ 1 mod 4): the JSON
 * is padded with spaces to a whole number of base64 quanta, then one character is added. A
 * decoder that drops the stray character reads valid JSON; base64 says it is not an encoding.
 */
function lengthOneMod4(json: string): string {
  let padded = json;
  while (b64(padded).length % 4 !== 0) padded += ' ';
  return `${b64(padded)}A`;
}

describe('differential: the SDK accepts exactly the tokens jose accepts', () => {
  const keys = makeKeys();
  const jwks = { keys: Object.values(keys).flatMap((key) => (key.jwk ? [key.jwk] : [])) };
  const localJwks = createLocalJWKSet(jwks);
  const joseKey = async (header: { alg?: string }) => (header.alg?.startsWith('HS') ? new Uint8Array(keys.hmac.secret!) : localJwks(header as never));
  const joseOptions = {
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ALGORITHMS,
    typ: 'at+jwt',
    clockTolerance: TOLERANCE,
    currentDate: new Date(NOW_SECONDS * 1000),
    requiredClaims: ['exp'],
    maxTokenAge: 10 * 365 * 86_400,
  };
  const verifier = createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ALGORITHMS,
    sharedSecret: keys.hmac.secret!,
    jwksUri: `${ISSUER}/jwks`,
    clockToleranceSeconds: TOLERANCE,
    now: () => NOW_SECONDS * 1000,
    cache: false,
    verifyOn: 'event-loop',
    fetch: async () => new Response(JSON.stringify(jwks), { headers: { 'content-type': 'application/json', 'cache-control': 'max-age=86400' } }),
  });

  const verdicts = async (token: string) => {
    const sdk = await verifier.verify(token).then(
      () => 'accept',
      (error: unknown) => ((error as { name?: string }).name === 'AuthError' ? 'reject' : `threw ${String(error)}`),
    );
    const jose = await jwtVerify(token, joseKey, joseOptions).then(
      () => 'accept',
      () => 'reject',
    );
    return { sdk, jose };
  };

  it('agrees token by token on a generated corpus of every supported algorithm', async () => {
    const tally = { accept: 0, reject: 0 };
    await fc.assert(
      fc.asyncProperty(tokenSpec, async (spec) => {
        const token = buildToken(spec, keys);
        const { sdk, jose } = await verdicts(token);
        expect({ sdk, spec }).toEqual({ sdk: jose, spec });
        tally[jose as 'accept' | 'reject'] += 1;
      }),
      { numRuns: 2500, seed: Number(process.env.FC_SEED ?? 20261130) },
    );
    // The corpus must exercise both verdicts, or the property proves little.
    expect(tally.accept).toBeGreaterThan(250);
    expect(tally.reject).toBeGreaterThan(1000);
  });

  it('agrees on the named attacks, each on its own', async () => {
    const base: TokenSpec = {
      signer: 'rsaA',
      alg: 'natural',
      kid: 'natural',
      typ: 'at+jwt',
      iss: ISSUER,
      aud: AUDIENCE,
      exp: NOW_SECONDS + 600,
      nbf: undefined,
      iat: NOW_SECONDS - 30,
      crit: false,
      mutation: 'none',
      position: 7,
    };
    const cases: Array<[string, Partial<TokenSpec>, 'accept' | 'reject']> = [
      ['valid RS256', {}, 'accept'],
      ['valid PS256', { signer: 'rsaB' }, 'accept'],
      ['valid ES256', { signer: 'ec' }, 'accept'],
      ['valid EdDSA', { signer: 'ed' }, 'accept'],
      ['valid HS256 with the shared secret', { signer: 'hmac' }, 'accept'],
      ['alg none, no signature', { alg: 'none' }, 'reject'],
      ['HS256 keyed with the RSA public key', { mutation: 'signed-hmac-with-rsa-public-key' }, 'reject'],
      ['kid swap: signed by rsa-a, names rsa-b', { kid: 'rsa-b' }, 'reject'],
      ['kid swap: signed by ec, names ed', { signer: 'ec', kid: 'ed' }, 'reject'],
      ['PS256 under a key whose JWK says RS… no alg: RSA key rsa-a accepts PS256', { alg: 'PS256' }, 'accept'],
      ['RS256 under rsa-b, whose JWK says PS256', { signer: 'rsaB', alg: 'RS256' }, 'reject'],
      ['a 1024-bit RSA key', { signer: 'rsaWeak' }, 'reject'],
      ['typ JWT', { typ: 'JWT' }, 'reject'],
      ['expired beyond the tolerance', { exp: NOW_SECONDS - TOLERANCE }, 'reject'],
      ['expired within the tolerance', { exp: NOW_SECONDS - TOLERANCE + 1 }, 'accept'],
      ['not yet valid', { nbf: NOW_SECONDS + TOLERANCE + 1 }, 'reject'],
      ['issued in the future', { iat: NOW_SECONDS + TOLERANCE + 1 }, 'reject'],
      ['wrong issuer', { iss: 'https://evil.example' }, 'reject'],
      ['wrong audience', { aud: 'other' }, 'reject'],
      ['a flipped signature character', { mutation: 'flip-signature' }, 'reject'],
      ['a header segment of length 1 mod 4, correctly signed', { mutation: 'signed-extra-char-in-header' }, 'reject'],
      ['a payload with invalid UTF-8, correctly signed', { mutation: 'signed-invalid-utf8-payload' }, 'reject'],
      ['a payload with a UTF-8 BOM, correctly signed', { mutation: 'signed-bom-payload' }, 'accept'],
    ];
    for (const [name, change, expected] of cases) {
      const result = await verdicts(buildToken({ ...base, ...change }, keys));
      expect(result, name).toEqual({ sdk: expected, jose: expected });
    }
  });
});
