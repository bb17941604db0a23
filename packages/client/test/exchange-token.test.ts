// Token exchange (RFC 8693) from the client SDK against a loopback token endpoint: the request it
// sends, caching per subject token, and the bound on exchanged entries. Clocks are fakes.
import { afterEach, describe, expect, it } from 'vitest';
import { createTokenClient } from '../src/index.js';
import { createClock, startTokenServer, tokenAnswer } from './helpers.js';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup() {
  const server = await startTokenServer(() => tokenAnswer(`exchanged-${server.requests.length}`, 300));
  const clock = createClock();
  const client = createTokenClient({
    tokenEndpoint: server.tokenEndpoint,
    clientId: 'payment-service',
    clientSecret: 'payment-service-secret',
    clock: clock.now,
    sleep: async () => undefined,
    backgroundRefresh: false,
  });
  cleanups.push(
    () => server.close(),
    () => client.close(),
  );
  return { server, clock, client };
}

describe('exchangeToken', () => {
  it('sends the RFC 8693 request with the client’s own authentication', async () => {
    const { server, client } = await setup();
    const token = await client.exchangeToken({ subjectToken: 'incoming-token-1', audience: 'https://ledger.example', scope: 'ledger:append' });
    expect(token.accessToken).toBe('exchanged-1');
    expect(server.requests[0]!.form).toEqual({
      grant_type: EXCHANGE,
      subject_token: 'incoming-token-1',
      subject_token_type: ACCESS_TOKEN,
      audience: 'https://ledger.example',
      scope: 'ledger:append',
    });
    expect(server.requests[0]!.headers.authorization).toMatch(/^Basic /);
  });

  it('caches per subject token: the same incoming token is exchanged once, another one again', async () => {
    const { server, client, clock } = await setup();
    const ask = (subjectToken: string) => client.exchangeToken({ subjectToken, audience: 'https://ledger.example' });
    const [a, b] = await Promise.all([ask('incoming-token-1'), ask('incoming-token-1')]);
    expect(a.accessToken).toBe(b.accessToken);
    expect((await ask('incoming-token-1')).accessToken).toBe(a.accessToken);
    expect((await ask('incoming-token-2')).accessToken).not.toBe(a.accessToken);
    expect(server.requests).toHaveLength(2);
    // Expired: exchanged again, never refreshed in the background.
    clock.advance(301_000);
    await ask('incoming-token-1');
    expect(server.requests).toHaveLength(3);
    // An ordinary token is a separate entry.
    await client.getToken({ audience: 'https://ledger.example' });
    expect(server.requests.at(-1)!.form.grant_type).toBe('client_credentials');
  });

  it('passes an actor token, and refuses options it does not know, without a request', async () => {
    const { server, client } = await setup();
    await client.exchangeToken({ subjectToken: 's', actorToken: 'a', audience: 'https://ledger.example' });
    expect(server.requests[0]!.form).toMatchObject({ actor_token: 'a', actor_token_type: ACCESS_TOKEN });
    await expect(client.exchangeToken({ audience: 'https://ledger.example' } as never)).rejects.toMatchObject({ code: 'configuration_error' });
    await expect(client.exchangeToken({ subjectToken: 's', extraParams: { grant_type: 'x' } } as never)).rejects.toMatchObject({ code: 'configuration_error' });
    expect(server.requests).toHaveLength(1);
  });

  it('keeps at most 1,000 exchanged entries, dropping expired ones first', async () => {
    const { server, client, clock } = await setup();
    for (let i = 0; i < 1_000; i += 1) await client.exchangeToken({ subjectToken: `incoming-${i}`, audience: 'https://ledger.example' });
    clock.advance(301_000);
    for (let i = 0; i < 10; i += 1) await client.exchangeToken({ subjectToken: `later-${i}`, audience: 'https://ledger.example' });
    expect(JSON.parse(JSON.stringify(client)).exchangedEntries).toBe(10);
    expect(server.requests).toHaveLength(1_010);
  });
});
