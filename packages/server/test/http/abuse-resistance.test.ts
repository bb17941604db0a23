import { afterEach, describe, expect, it } from 'vitest';
import { basic, createTestApp, postToken, seedExampleSystem, type TestApp } from '../helpers/test-app.js';
import { addressKey } from '../../src/client-auth/address-key.js';
import { fastifyTrustProxy, parseTrustProxy } from '../../src/config/trust-proxy.js';
import { availableStacks } from '../helpers/stacks.js';

const PAYMENTS = 'https://payments.example';
const cc = { grant_type: 'client_credentials', audience: PAYMENTS };
const NAT = '198.51.100.7';

// Throttling state lives in the shared state and clients in the storage: each attack runs on
// every stack CI has (SQLite; PostgreSQL + Redis).
const stacks = await availableStacks();

let t: TestApp;
afterEach(() => t.close());

describe.each(stacks)('attacks on $name', (stack) => {
  async function setup(options: Parameters<typeof createTestApp>[0] = {}) {
    t = await createTestApp({ ...options, stack });
    return seedExampleSystem(t.runtime);
  }

  describe('failed authentications: throttled, never a lockout of the real client', () => {
    it('ten wrong secrets for a known client id from a shared address, then the real secret from there: 200', async () => {
      const client = await setup();
      const attacker = basic(client.clientId, 'm2msk_guess');
      for (let i = 0; i < 10; i++) expect((await postToken(t.app, cc, attacker, { remoteAddress: NAT })).status).toBe(401);
      const throttled = await postToken(t.app, cc, attacker, { remoteAddress: NAT });
      expect(throttled.status).toBe(429);
      expect(throttled.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
      expect(throttled.headers['cache-control']).toBe('no-store');
      expect(Number(throttled.headers['retry-after'])).toBe(60);

      const real = await postToken(t.app, cc, basic(client.clientId, client.clientSecret), { remoteAddress: NAT });
      expect(real.status).toBe(200);
      expect(real.body.access_token).toEqual(expect.any(String));
    });

    it('backs off: each further failure doubles Retry-After, and the counter outlives the first window', async () => {
      const client = await setup();
      const attacker = basic(client.clientId, 'm2msk_guess');
      for (let i = 0; i < 10; i++) await postToken(t.app, cc, attacker, { remoteAddress: NAT });
      const retryAfters = [];
      for (let i = 0; i < 4; i++) retryAfters.push(Number((await postToken(t.app, cc, attacker, { remoteAddress: NAT })).headers['retry-after']));
      expect(retryAfters).toEqual([60, 120, 240, 480]);
      t.clock.advance(61_000);
      const stillThrottled = await postToken(t.app, cc, attacker, { remoteAddress: NAT });
      expect(stillThrottled.status).toBe(429);
      // Failing during the back-off extends it; once it passes quietly, the count starts over.
      t.clock.advance(Number(stillThrottled.headers['retry-after']) * 1000 + 1000);
      expect((await postToken(t.app, cc, attacker, { remoteAddress: NAT })).status).toBe(401);
    });

    it('an unknown client id gets exactly the answers a known id with a wrong secret gets', async () => {
      const client = await setup();
      const known = basic(client.clientId, 'm2msk_guess');
      const unknown = basic('0123456789abcdef01234567', 'm2msk_guess');
      const strip = (response: Awaited<ReturnType<typeof postToken>>) => ({
        status: response.status,
        body: response.body,
        challenge: response.headers['www-authenticate'],
        retryAfter: response.headers['retry-after'],
      });
      for (let i = 0; i < 11; i++) {
        const a = await postToken(t.app, cc, known, { remoteAddress: '192.0.2.1' });
        const b = await postToken(t.app, cc, unknown, { remoteAddress: '192.0.2.2' });
        expect(strip(b)).toEqual(strip(a));
      }
    });

    it('throttles one address guessing many client ids, without refusing a real client behind it', async () => {
      const client = await setup({ runtime: { failureLimits: { perAddress: 20 } } });
      for (let i = 0; i < 20; i++) expect((await postToken(t.app, cc, basic(`random-${i}`, 'x'), { remoteAddress: NAT })).status).toBe(401);
      expect((await postToken(t.app, cc, basic('random-new', 'x'), { remoteAddress: NAT })).status).toBe(429);
      expect((await postToken(t.app, cc, basic('random-new', 'x'), { remoteAddress: '203.0.113.9' })).status).toBe(401);
      expect((await postToken(t.app, cc, basic(client.clientId, client.clientSecret), { remoteAddress: NAT })).status).toBe(200);
    });

    it('counts an IPv6 /64 as one source, so rotating addresses inside it does not help', async () => {
      const client = await setup();
      const attacker = basic(client.clientId, 'm2msk_guess');
      for (let i = 0; i < 10; i++) await postToken(t.app, cc, attacker, { remoteAddress: `2001:db8:1:2::${(i + 1).toString(16)}` });
      expect((await postToken(t.app, cc, attacker, { remoteAddress: '2001:db8:1:2:ffff::1' })).status).toBe(429);
      expect(addressKey('2001:0db8:0001:0002:0000:0000:0000:0001')).toBe('2001:db8:1:2::/64');
      expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    });
  });

  describe('--trust-proxy: the address the trusted proxies saw, never what the caller wrote', () => {
    const viaProxy = (forwardedFor: string, socket = '10.0.0.1') => ({ remoteAddress: socket, headers: { 'x-forwarded-for': forwardedFor } });

    it('with one hop, spoofed entries left of the proxy’s own are ignored', async () => {
      const client = await setup({ trustProxy: 1 });
      const attacker = basic(client.clientId, 'm2msk_guess');
      for (let i = 0; i < 10; i++) {
        expect((await postToken(t.app, cc, attacker, viaProxy(`192.0.2.${i}, ${NAT}`))).status).toBe(401);
      }
      // A new spoofed value does not escape: the key is the address the proxy appended.
      expect((await postToken(t.app, cc, attacker, viaProxy(`192.0.2.200, ${NAT}`))).status).toBe(429);
      // Another real client address behind the same proxy is its own source.
      expect((await postToken(t.app, cc, attacker, viaProxy('203.0.113.50'))).status).toBe(401);
    });

    it('with a list of proxies, X-Forwarded-For from anyone else is ignored', async () => {
      const client = await setup({ trustProxy: ['10.0.0.0/8', '192.168.1.5'] });
      const attacker = basic(client.clientId, 'm2msk_guess');
      // A direct caller (not a listed proxy) writing X-Forwarded-For: its socket address counts.
      for (let i = 0; i < 10; i++) await postToken(t.app, cc, attacker, viaProxy(`192.0.2.${i}`, '203.0.113.66'));
      expect((await postToken(t.app, cc, attacker, viaProxy('192.0.2.99', '203.0.113.66'))).status).toBe(429);
      // Through two listed proxies, the address the outer one saw counts, whatever is left of it.
      for (let i = 0; i < 10; i++) await postToken(t.app, cc, attacker, viaProxy(`6.6.6.${i}, ${NAT}, 192.168.1.5`));
      expect((await postToken(t.app, cc, attacker, viaProxy(`${NAT}, 10.1.2.3`))).status).toBe(429);
    });

    it('an address spelled with a port, in brackets or IPv4-mapped is the same source: new spellings do not reset the back-off', async () => {
      const client = await setup({ trustProxy: 1 });
      const attacker = basic(client.clientId, 'm2msk_guess');
      const v4 = [
        '10.1.2.3',
        '10.1.2.3:1234',
        '10.1.2.3:1235',
        '::ffff:10.1.2.3',
        '[::ffff:10.1.2.3]:80',
        '::ffff:a01:203',
        '0:0:0:0:0:ffff:10.1.2.3',
        '10.1.2.3:1',
        '10.1.2.3:2',
        '10.1.2.3:3',
      ];
      for (const spelling of v4) expect((await postToken(t.app, cc, attacker, viaProxy(spelling))).status).toBe(401);
      expect((await postToken(t.app, cc, attacker, viaProxy('10.1.2.3:40000'))).status).toBe(429);
      const v6 = [
        '2001:db8::1',
        '[2001:db8::1]',
        '[2001:db8::1]:443',
        '[2001:DB8::1]:444',
        '2001:db8:0:0::2',
        '2001:db8::3%eth0',
        '[2001:db8::4]',
        '[2001:db8::5]:1',
        '[2001:db8::6]:2',
        '2001:0db8::7',
      ];
      for (const spelling of v6) expect((await postToken(t.app, cc, attacker, viaProxy(spelling))).status).toBe(401);
      expect((await postToken(t.app, cc, attacker, viaProxy('[2001:db8::99]:8443'))).status).toBe(429);
    });
  });
});

describe('--trust-proxy parsing', () => {
  it('normalises every spelling of an address to one key', () => {
    for (const spelling of [
      '10.1.2.3',
      '10.1.2.3:1234',
      '[10.1.2.3]',
      '[10.1.2.3]:8080',
      '::ffff:10.1.2.3',
      '::FFFF:10.1.2.3',
      '[::ffff:10.1.2.3]:443',
      '::ffff:a01:203',
      '0:0:0:0:0:ffff:0a01:0203',
      ' 10.1.2.3 ',
    ]) {
      expect(addressKey(spelling), spelling).toBe('10.1.2.3');
    }
    for (const spelling of [
      '2001:db8::1',
      '[2001:db8::1]',
      '[2001:db8::1]:443',
      '2001:DB8:0:0:1::1',
      '2001:db8::1%eth0',
      '[2001:db8::1%eth0]:443',
      '2001:db8:0:0:ffff::1',
    ]) {
      expect(addressKey(spelling), spelling).toBe('2001:db8:0:0::/64');
    }
    // Not an address (a proxy's garbage): kept as written, lower-cased, never merged with one.
    expect(addressKey('unknown')).toBe('unknown');
    expect(addressKey('::ffff:1.2.3.4:80')).toBe('::ffff:1.2.3.4:80');
  });

  it('parses hops and lists, refuses true and nonsense clearly', () => {
    expect(parseTrustProxy(undefined)).toEqual({ trustProxy: false });
    expect(parseTrustProxy('false')).toEqual({ trustProxy: false });
    expect(parseTrustProxy('1')).toEqual({ trustProxy: 1 });
    expect(parseTrustProxy('10.0.0.0/8,192.168.1.5, fd00::/8')).toEqual({ trustProxy: ['10.0.0.0/8', '192.168.1.5', 'fd00::/8'] });
    expect(parseTrustProxy('true')).toEqual({ problem: expect.stringContaining('number of proxies') });
    expect(parseTrustProxy('10.0.0.0/33')).toEqual({ problem: expect.stringContaining('10.0.0.0/33') });
    expect(parseTrustProxy('proxy.example')).toEqual({ problem: expect.any(String) });
    const twoHops = fastifyTrustProxy(2) as (address: string, hop: number) => boolean;
    expect([0, 1, 2].map((hop) => twoHops('x', hop))).toEqual([true, true, false]);
  });
});
