import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { runWalkthrough, startDemo } from '../demo/walkthrough.mjs';

/**
 * `npm run demo`, asserted: the same walk-through a person watches, with real processes (the CLI
 * and `m2m-auth serve` from dist/, which `npm test` builds). Each step reports what it observed.
 * It takes ~25 s, most of it waiting for a 30 s token to reach its refresh point.
 */
let demo;
let steps;
const lines = [];
const step = (id) => steps.find((candidate) => candidate.id === id);

beforeAll(async () => {
  demo = await startDemo({ print: (line) => lines.push(line) });
  steps = await runWalkthrough(demo, { print: (line) => lines.push(line) });
}, 120_000);

afterAll(async () => {
  await demo?.stop();
});

describe('npm run demo', () => {
  it('runs every step as expected', () => {
    expect(steps.map((s) => [s.id, s.ok])).toEqual([
      ['good-order', true],
      ['missing-scope', true],
      ['refresh-ahead', true],
      ['auth-server-down', true],
      ['secret-rotation', true],
      ['tampered-token', true],
      ['secretless', true],
      ['token-exchange', true],
    ]);
  });

  it('a good order: each downstream service sees order-service with only the scope it needs, one token per audience', () => {
    expect(step('good-order').facts).toMatchObject({ status: 201, inventoryScopes: ['inventory:read'], tokensFetched: 2 });
    // ledger:append: what lets payment-service record the charge in the ledger on order-service's behalf.
    expect([...step('good-order').facts.paymentScopes].sort()).toEqual(['ledger:append', 'payments:write']);
    expect(step('good-order').facts.ledger).toMatchObject({
      on_behalf_of: demo.clients.order.client_id,
      actors: [{ subject: demo.clients.payment.client_id, client_id: demo.clients.payment.client_id }],
    });
  });

  it('a missing scope: 403 insufficient_scope with the RFC 6750 challenge naming the scope', () => {
    expect(step('missing-scope').facts).toMatchObject({ downstreamStatus: 403, error: 'insufficient_scope' });
    expect(step('missing-scope').facts.wwwAuthenticate).toBe(
      'Bearer realm="payments", error="insufficient_scope", error_description="The access token needs the scopes: payments:refund.", scope="payments:refund"',
    );
  });

  it('refresh ahead: a new token arrives before the old one expires and no call fails', () => {
    const facts = step('refresh-ahead').facts;
    expect(facts).toMatchObject({ renewed: true, renewedBeforeExpiry: true, fetchedAhead: true });
    expect(facts.statuses.every((status) => status === 201)).toBe(true);
  });

  it('authorization server down: calls succeed on cached tokens, and it comes back on the same URL', () => {
    const facts = step('auth-server-down').facts;
    expect(facts.tokenEndpoint).toMatch(/^unreachable/);
    expect(facts.statuses).toEqual([201, 201, 201, 201, 201]);
    expect(facts).toMatchObject({ ready: 200, after: 201 });
  });

  it('secret rotation: old and new secrets both work in the grace period, and orders go on', () => {
    const facts = step('secret-rotation').facts;
    expect(facts).toMatchObject({ withOld: 200, withNew: 200 });
    expect(facts.statuses.length).toBeGreaterThan(0);
    expect(facts.statuses.every((status) => status === 201)).toBe(true);
  });

  it('a tampered token: 401 invalid_token for a bad signature', () => {
    expect(step('tampered-token').facts).toMatchObject({ genuine: 201, refused: 401, reason: 'bad_signature' });
    expect(step('tampered-token').facts.wwwAuthenticate).toBe(
      'Bearer realm="payments", error="invalid_token", error_description="The access token signature is invalid."',
    );
  });

  it('secretless: reporting-service has no secret, gets its tokens with its platform token, and another service account of the same platform is refused', () => {
    const facts = step('secretless').facts;
    expect(facts).toMatchObject({
      secrets: 0,
      status: 200,
      caller: demo.clients.reporting.client_id,
      scopes: ['inventory:read'],
      otherServiceAccount: 401,
      otherServiceAccountError: 'invalid_client',
    });
    expect(facts.tokensFetched).toBeGreaterThanOrEqual(1);
    expect(facts.platformWrites).toBeGreaterThanOrEqual(1);
    const fetched = demo.events.filter((event) => event.source === 'reporting-service' && event.type === 'token.fetched');
    expect(fetched.length).toBe(facts.tokensFetched);
  });

  it('token exchange: the ledger entry names order-service as the subject and payment-service as the actor, under the one policy, never wider', () => {
    const facts = step('token-exchange').facts;
    expect(facts).toMatchObject({
      status: 201,
      subject: demo.clients.order.client_id,
      actors: [{ subject: demo.clients.payment.client_id, client_id: demo.clients.payment.client_id }],
      clientId: demo.clients.payment.client_id,
      scopes: ['ledger:append'],
      policies: 1,
      narrower: 'invalid_scope',
      stranger: 'unauthorized_client',
    });
    // One exchange per order-service token: the first one and each renewal (refresh-ahead), never one per order.
    expect(facts.exchanges).toBeGreaterThanOrEqual(2);
    expect(facts.exchanges).toBeLessThan(step('refresh-ahead').facts.statuses.length);
  });

  it('never prints a secret or a token in full', () => {
    const output = lines.join('\n');
    expect(output).not.toContain(demo.clients.order.client_secret);
    expect(output).not.toContain(demo.clients.reporting.client_secret);
    expect(output).not.toContain(demo.clients.payment.client_secret);
    expect(output).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
  });

  it('throws the data directory away at the end', async () => {
    await demo.stop();
    expect(existsSync(demo.dataDir)).toBe(false);
  });
});
