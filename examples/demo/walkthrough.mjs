// The seed scenario, step by step: m2m-auth, order-service → payment-service + inventory-service,
// payment-service → ledger-service on the order service's behalf (token exchange), and
// reporting-service → inventory-service with no secret (its platform's token instead).
// `startDemo` sets everything up through the CLI; `runWalkthrough` runs the steps and returns
// what each one observed, so examples/test/demo.test.js can assert it and `demo.mjs` can print it.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, m2mAuth, startAuthServer } from './auth-server.mjs';
import { INVENTORY_API, startInventoryService } from './inventory-service.mjs';
import { LEDGER_API, startLedgerService } from './ledger-service.mjs';
import { startOrderService } from './order-service.mjs';
import { PAYMENTS_API, startPaymentService } from './payment-service.mjs';
import { startPlatformIssuer } from './platform-issuer.mjs';
import { startReportingService } from './reporting-service.mjs';

/** The payments grant's token lifetime: 30 s is the shortest m2m-auth allows. */
export const PAYMENTS_TOKEN_TTL = 30;

/** reporting-service's identity on its platform, as Kubernetes names a service account. */
export const REPORTING_NAMESPACE = 'shop';
export const REPORTING_SUBJECT = `system:serviceaccount:${REPORTING_NAMESPACE}:reporting-service`;
/**
 * How often the demo platform rewrites the token file. The kubelet does it at 80% of the token's
 * lifetime (10 minutes at the least); every 10 s here, so it shows within the walk-through.
 */
export const PLATFORM_TOKEN_REFRESH_SECONDS = 10;

/** Sets up the scenario through the CLI and starts the four processes' worth of services. */
export async function startDemo({ print = () => {} } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-demo-'));
  const events = [];
  const record = (source) => (event) => events.push({ at: Date.now(), source, ...event });
  const services = [];
  let auth;
  let platform;
  const stop = async () => {
    for (const service of services.reverse()) await service.close().catch(() => undefined);
    await auth?.stop();
    await platform?.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    heading(print, 'Setting up, with the m2m-auth CLI', `data directory ${dataDir} (thrown away at the end)`);
    // init creates the database, the master key and signing keys; the other commands can then run together.
    await m2mAuth(dataDir, ['init']);
    // ledger:append on payments is what a caller's token carries to let payment-service record its
    // charges in the ledger on its behalf: an exchanged token never carries a scope the caller's lacks.
    await m2mAuth(dataDir, [
      'apis',
      'create',
      '--identifier',
      PAYMENTS_API,
      '--name',
      'payment-service',
      '--scopes',
      'payments:write,payments:refund,ledger:append',
    ]);
    const [, , orderClient, paymentClient, inventoryClient, reportingClient] = await Promise.all([
      m2mAuth(dataDir, ['apis', 'create', '--identifier', INVENTORY_API, '--name', 'inventory-service', '--scopes', 'inventory:read,inventory:write']),
      m2mAuth(dataDir, ['apis', 'create', '--identifier', LEDGER_API, '--name', 'ledger-service', '--scopes', 'ledger:append,ledger:read']),
      ...['order-service', 'payment-service', 'inventory-service', 'reporting-service'].map((name) => m2mAuth(dataDir, ['clients', 'create', '--name', name])),
    ]);
    print(`  APIs      ${PAYMENTS_API} (payments:write, payments:refund, ledger:append)`);
    print(`            ${INVENTORY_API} (inventory:read, inventory:write)`);
    print(`            ${LEDGER_API} (ledger:append, ledger:read)`);
    await Promise.all([
      m2mAuth(dataDir, [
        'grants',
        'create',
        '--client',
        orderClient.client_id,
        '--api',
        PAYMENTS_API,
        '--scopes',
        'payments:write,ledger:append',
        '--token-ttl',
        String(PAYMENTS_TOKEN_TTL),
      ]),
      m2mAuth(dataDir, ['grants', 'create', '--client', orderClient.client_id, '--api', INVENTORY_API, '--scopes', 'inventory:read']),
      m2mAuth(dataDir, ['grants', 'create', '--client', paymentClient.client_id, '--api', LEDGER_API, '--scopes', 'ledger:append']),
    ]);
    // payment-service may trade the order service's tokens, and only those, for ledger tokens.
    const policy = await m2mAuth(dataDir, [
      'exchange-policies',
      'add',
      '--client',
      paymentClient.client_id,
      '--subject-client',
      orderClient.client_id,
      '--api',
      LEDGER_API,
      '--scopes',
      'ledger:append',
    ]);
    print(`  clients   order-service      ${orderClient.client_id}  secret ${hint(orderClient.client_secret)}`);
    print(`              grants: payments:write and ledger:append on payments (tokens live ${PAYMENTS_TOKEN_TTL} s), inventory:read on inventory`);
    print(`            payment-service    ${paymentClient.client_id}  secret ${hint(paymentClient.client_secret)}`);
    print('              grants: ledger:append on ledger, for exchanged tokens only: it never calls the ledger as itself');
    print(`    m2m-auth exchange-policies add --client ${paymentClient.client_id} --subject-client ${orderClient.client_id} \\`);
    print(`      --api ${LEDGER_API} --scopes ledger:append   → ${policy.id}`);
    print(`            inventory-service  ${inventoryClient.client_id}  no grants: it calls no one`);

    // reporting-service runs on a platform that gives it a signed identity: it needs no secret.
    platform = await startPlatformIssuer();
    const platformTokenFile = join(dataDir, 'reporting-service.platform-token');
    const credential = await setUpSecretless(dataDir, platform, reportingClient);
    print(`            reporting-service  ${reportingClient.client_id}  no secret (the one \`clients create\` made is revoked)`);
    print('              grants: inventory:read on inventory');
    print(`  platform  ${platform.issuer}  a stand-in for a Kubernetes cluster: discovery document and JWKS of its service-account tokens`);
    print(`    m2m-auth issuers add --issuer ${platform.issuer} --kind kubernetes`);
    print(`    m2m-auth clients federated add --client ${reportingClient.client_id} --issuer ${platform.issuer} \\`);
    print(`      --subject ${REPORTING_SUBJECT} --claim kubernetes.io/namespace=${REPORTING_NAMESPACE}   → ${credential.id}`);

    // The order service reads its secret from a secret store; here, a private file.
    const secretFile = join(dataDir, 'order-service.secret');
    writeFileSync(secretFile, orderClient.client_secret, { mode: 0o600 });
    const paymentSecretFile = join(dataDir, 'payment-service.secret');
    writeFileSync(paymentSecretFile, paymentClient.client_secret, { mode: 0o600 });

    const port = await freePort();
    auth = await startAuthServer({ dataDir, port });
    const issuer = auth.url;
    const ledger = await startLedgerService({ issuer, onEvent: record('ledger-service') });
    services.push(ledger);
    const payment = await startPaymentService({
      issuer,
      clientId: paymentClient.client_id,
      secretFile: paymentSecretFile,
      ledgerUrl: ledger.url,
      onEvent: record('payment-service'),
    });
    services.push(payment);
    const inventory = await startInventoryService({ issuer, onEvent: record('inventory-service') });
    services.push(inventory);
    const projection = await platform.project(platformTokenFile, serviceAccountClaims(REPORTING_SUBJECT, issuer), {
      refreshSeconds: PLATFORM_TOKEN_REFRESH_SECONDS,
    });
    const reportingService = await startReportingService({
      issuer,
      tokenFile: platformTokenFile,
      inventoryUrl: inventory.url,
      onEvent: record('reporting-service'),
    });
    services.push(reportingService);
    const order = await startOrderService({
      issuer,
      clientId: orderClient.client_id,
      secretFile,
      paymentsUrl: payment.url,
      inventoryUrl: inventory.url,
      // Refresh when 15 s remain. The default is max(60 s, a fifth of the lifetime), never more
      // than half of it: for a 30 s token that is also 15 s, but with jitter; none here.
      refreshAhead: { minSeconds: 15, jitterFraction: 0 },
      onEvent: record('order-service'),
    });
    services.push(order);
    print(`  m2m-auth           ${issuer}  (pid ${auth.pid})`);
    print(`  order-service      ${order.url}  Fastify + @m2m-auth/client`);
    print(`  payment-service    ${payment.url}  Express + @m2m-auth/resource-server, needs payments:write; exchangeToken() for the ledger`);
    print(`  ledger-service     ${ledger.url}  Express + @m2m-auth/resource-server, needs ledger:append; reads the act chain`);
    print(`  inventory-service  ${inventory.url}  Fastify + @m2m-auth/resource-server, needs inventory:read`);
    print(`  reporting-service  ${reportingService.url}  Fastify + @m2m-auth/client with fileAssertion(): no secret`);
    print(`    the platform writes its service-account token (audience ${issuer}) to`);
    print(`    ${platformTokenFile}, again every ${PLATFORM_TOKEN_REFRESH_SECONDS} s`);

    return {
      dataDir,
      port,
      secretFile,
      events,
      clients: { order: orderClient, payment: paymentClient, inventory: inventoryClient, reporting: reportingClient },
      exchangePolicy: policy,
      urls: {
        issuer,
        order: order.url,
        payment: payment.url,
        inventory: inventory.url,
        ledger: ledger.url,
        reporting: reportingService.url,
        platform: platform.issuer,
      },
      platform,
      projection,
      platformTokenFile,
      get auth() {
        return auth;
      },
      set auth(value) {
        auth = value;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs every step; returns `[{ id, title, ok, facts }]`. */
export async function runWalkthrough(demo, { print = () => {} } = {}) {
  const steps = [];
  for (const [id, title, step] of STEPS) {
    heading(print, `${steps.length + 1}. ${title}`);
    const facts = await step(demo, print);
    const ok = facts.ok;
    delete facts.ok;
    steps.push({ id, title, ok, facts });
    print(ok ? '  ✔ as expected' : '  ✘ NOT as expected');
  }
  return steps;
}

const STEPS = [
  ['good-order', 'A good order: order-service calls inventory-service and payment-service', goodOrder],
  ['missing-scope', 'A call without the scope it needs: 403 insufficient_scope', missingScope],
  ['refresh-ahead', 'The payments token is refreshed ahead of its expiry, without a failed call', refreshAhead],
  ['auth-server-down', 'm2m-auth stopped: calls go on with cached tokens; then it starts again', authServerDown],
  ['secret-rotation', 'The order-service secret rotated with a grace period, while calls go on', secretRotation],
  ['tampered-token', 'A tampered token is refused', tamperedToken],
  ['secretless', 'reporting-service has no secret: its platform token is its credential', secretless],
  ['token-exchange', 'payment-service records the charge in the ledger on the order service’s behalf: token exchange', tokenExchange],
];

async function goodOrder(demo, print) {
  const { status, body } = await placeOrder(demo);
  print(`  POST ${demo.urls.order}/orders → ${status}`);
  if (status !== 201) return { ok: false, status, body };
  print(`  inventory-service saw caller ${body.stock.caller} with scopes [${body.stock.scopes}] → ${body.stock.available} in stock`);
  print(`  payment-service   saw caller ${body.payment.caller} with scopes [${body.payment.scopes}] → charge ${body.payment.charge_id}`);
  const ledger = body.payment.ledger;
  print(
    `  ledger-service    recorded ${ledger?.entry_id} on behalf of ${ledger?.on_behalf_of}, acted on by ${ledger?.actors.map((actor) => actor.subject).join(' ← ')}`,
  );
  const fetched = demo.events.filter((event) => event.source === 'order-service' && event.type === 'token.fetched');
  print(`  order-service fetched ${fetched.length} tokens, one per audience; every further call reuses them`);
  return {
    ok:
      body.stock.caller === demo.clients.order.client_id &&
      body.payment.caller === demo.clients.order.client_id &&
      ledger?.on_behalf_of === demo.clients.order.client_id &&
      ledger?.actors[0]?.subject === demo.clients.payment.client_id &&
      fetched.length === 2,
    status,
    inventoryScopes: body.stock.scopes,
    paymentScopes: body.payment.scopes,
    tokensFetched: fetched.length,
    paymentToken: body.payment.token,
    ledger,
  };
}

async function missingScope(demo, print) {
  const { status, body } = await post(`${demo.urls.order}/orders/ord_1/refund`);
  print(`  POST ${demo.urls.order}/orders/ord_1/refund → ${status}`);
  print(`  payment-service answered ${body.status} to order-service:`);
  print(`    WWW-Authenticate: ${body.www_authenticate}`);
  print(`    ${JSON.stringify(body.body)}`);
  print('  (not retried: a new token would not carry more scopes; the grant has to change)');
  return {
    ok: body.status === 403 && body.body?.error === 'insufficient_scope' && /scope="payments:refund"/.test(body.www_authenticate ?? ''),
    status,
    downstreamStatus: body.status,
    wwwAuthenticate: body.www_authenticate,
    error: body.body?.error,
  };
}

async function refreshAhead(demo, print) {
  const first = (await placeOrder(demo)).body?.payment?.token;
  if (!first) return { ok: false };
  print(`  payments token jti ${short(first.jti)} expires in ${first.expires_at - seconds()} s; ordering once a second:`);
  const statuses = [];
  let renewed;
  let renewedBeforeExpiry = false;
  // Bounded: the old token's expiry plus a few seconds, whatever happens.
  while (Date.now() < (first.expires_at + 5) * 1000) {
    await sleep(1000);
    const { status, body } = await placeOrder(demo);
    statuses.push(status);
    const token = body?.payment?.token;
    print(`  ${clock()} order → ${status}   payments token jti ${short(token?.jti)}, expires in ${token ? token.expires_at - seconds() : '?'} s`);
    if (token && token.jti !== first.jti) {
      renewed = token;
      renewedBeforeExpiry = seconds() < first.expires_at;
      break;
    }
  }
  // The client's own event for that fetch (its expiry is within a second or two of the token's exp).
  const fetched =
    renewed &&
    demo.events.find(
      (event) => event.source === 'order-service' && event.type === 'token.fetched' && Math.abs(event.expiresAt / 1000 - renewed.expires_at) <= 2,
    );
  if (fetched)
    print(
      `  order-service fetched the new token (jti ${short(renewed.jti)}) in the background, ${first.expires_at - Math.round(fetched.at / 1000)} s before the old one expired`,
    );
  const allSucceeded = statuses.every((status) => status === 201);
  print(`  ${statuses.length} orders, ${statuses.filter((status) => status !== 201).length} failed`);
  return {
    ok: Boolean(renewed) && renewedBeforeExpiry && allSucceeded && Boolean(fetched),
    renewed: Boolean(renewed),
    renewedBeforeExpiry,
    fetchedAhead: Boolean(fetched) && fetched.at < first.expires_at * 1000,
    statuses,
  };
}

async function authServerDown(demo, print) {
  await demo.auth.stop();
  const tokenEndpoint = await fetch(`${demo.urls.issuer}/oauth/token`, { method: 'POST' }).then(
    (response) => `answered ${response.status}`,
    (error) => `unreachable (${error.cause?.code ?? error.message})`,
  );
  print(`  m2m-auth stopped; its token endpoint is ${tokenEndpoint}`);
  const statuses = [];
  for (let i = 0; i < 5; i += 1) {
    statuses.push((await placeOrder(demo)).status);
    await sleep(200);
  }
  print(`  5 orders while it is down → ${statuses.join(', ')} (cached tokens; the services verify offline with cached keys)`);
  demo.auth = await startAuthServer({ dataDir: demo.dataDir, port: demo.port });
  const ready = await fetch(`${demo.urls.issuer}/readyz`).then((response) => response.status);
  print(`  m2m-auth started again on the same URL (pid ${demo.auth.pid}); /readyz → ${ready}`);
  const after = (await placeOrder(demo)).status;
  print(`  order → ${after}`);
  return {
    ok: tokenEndpoint.startsWith('unreachable') && statuses.every((status) => status === 201) && ready === 200 && after === 201,
    tokenEndpoint,
    statuses,
    ready,
    after,
  };
}

async function secretRotation(demo, print) {
  const orders = keepOrdering(demo);
  const oldSecret = demo.clients.order.client_secret;
  const rotated = await m2mAuth(demo.dataDir, ['clients', 'rotate-secret', demo.clients.order.client_id, '--grace', '60']);
  print(`  m2m-auth clients rotate-secret ${demo.clients.order.client_id} --grace 60`);
  print(`    new secret ${hint(rotated.client_secret)}; the old one (${hint(oldSecret)}) keeps working until ${rotated.previous_secrets_expire_at}`);
  // Deploy the new secret where order-service reads it; it switches when the old one stops working.
  writeFileSync(demo.secretFile, rotated.client_secret, { mode: 0o600 });
  demo.clients.order = { ...demo.clients.order, client_secret: rotated.client_secret };
  const withOld = (await requestToken(demo, oldSecret)).status;
  const withNew = (await requestToken(demo, rotated.client_secret)).status;
  print(`  token request with the old secret → ${withOld} (grace period), with the new one → ${withNew}`);
  const statuses = await orders.stop();
  print(`  ${statuses.length} orders during the rotation → ${statuses.filter((status) => status === 201).length} succeeded`);
  return {
    ok: withOld === 200 && withNew === 200 && statuses.length > 0 && statuses.every((status) => status === 201),
    withOld,
    withNew,
    orders: statuses.length,
    statuses,
  };
}

async function tamperedToken(demo, print) {
  const { body } = await requestToken(demo, demo.clients.order.client_secret, { audience: PAYMENTS_API, scope: 'payments:write' });
  const token = body.access_token;
  const [header, payload, signature] = token.split('.');
  const claims = decode(payload);
  const { kid, alg } = decode(header);
  print(`  a real token for payments: kid ${kid} (${alg}), sub ${claims.sub}, scope "${claims.scope}"`);
  const genuine = await post(`${demo.urls.payment}/charges`, { token });
  print(`    POST /charges with it → ${genuine.status}`);
  const forged = [header, encode({ ...claims, scope: 'payments:write payments:refund' }), signature].join('.');
  print('  the same token with "payments:refund" added to its scope claim, signature unchanged:');
  const refused = await post(`${demo.urls.payment}/refunds`, { token: forged });
  print(`    POST /refunds with it → ${refused.status}`);
  print(`    WWW-Authenticate: ${refused.wwwAuthenticate}`);
  const rejected = demo.events.find((event) => event.source === 'payment-service' && event.type === 'token.rejected');
  if (rejected) print(`    payment-service logged: token.rejected, reason ${rejected.reason}`);
  return {
    ok: genuine.status === 201 && refused.status === 401 && /error="invalid_token"/.test(refused.wwwAuthenticate ?? ''),
    genuine: genuine.status,
    refused: refused.status,
    wwwAuthenticate: refused.wwwAuthenticate,
    reason: rejected?.reason,
  };
}

async function secretless(demo, print) {
  const clientId = demo.clients.reporting.client_id;
  const secrets = await m2mAuth(demo.dataDir, ['clients', 'secrets', 'list', clientId]);
  print(`  m2m-auth clients secrets list ${clientId} → ${secrets.length} secrets`);
  const platformClaims = decode(readFileSync(demo.platformTokenFile, 'utf8').split('.')[1]);
  print(`  its platform token file holds a JWT: sub ${platformClaims.sub}, aud ${platformClaims.aud}, expires in ${platformClaims.exp - seconds()} s`);
  print(`    (the platform has written it ${demo.projection.writes} times so far; the client re-reads it when it changes)`);
  const { status, body } = await get(`${demo.urls.reporting}/report`);
  print(`  GET ${demo.urls.reporting}/report → ${status}`);
  if (status !== 200) return { ok: false, status, body };
  print(
    `  inventory-service saw caller ${body.inventory_saw.caller} with scopes [${body.inventory_saw.scopes}] → ${body.stock.map((line) => `${line.sku} ${line.available}`).join(', ')}`,
  );
  const fetched = demo.events.filter((event) => event.source === 'reporting-service' && event.type === 'token.fetched');
  print(`  reporting-service fetched ${fetched.length} token${fetched.length === 1 ? '' : 's'}, with client_assertion=<its platform token> and no client_id`);
  // Signed by the same platform, for the same audience: but no federated credential names it.
  const intruder = `system:serviceaccount:${REPORTING_NAMESPACE}:intruder`;
  const refused = await requestTokenWithAssertion(demo, await demo.platform.sign(serviceAccountClaims(intruder, demo.urls.issuer)));
  print(`  a genuine platform token of another service account (${intruder}) → ${refused.status} ${refused.body.error}`);
  return {
    ok:
      secrets.length === 0 &&
      body.inventory_saw.caller === clientId &&
      fetched.length >= 1 &&
      refused.status === 401 &&
      refused.body.error === 'invalid_client',
    secrets: secrets.length,
    status,
    caller: body.inventory_saw.caller,
    scopes: body.inventory_saw.scopes,
    tokensFetched: fetched.length,
    platformWrites: demo.projection.writes,
    otherServiceAccount: refused.status,
    otherServiceAccountError: refused.body.error,
  };
}

async function tokenExchange(demo, print) {
  const { status, body } = await placeOrder(demo, { sku: 'sku-grinder', amount: 8900 });
  print(`  POST ${demo.urls.order}/orders → ${status}`);
  const entry = body?.payment?.ledger;
  if (status !== 201 || !entry) return { ok: false, status, body };
  print(`  order-service's token to payment-service: sub ${short(body.payment.caller)}, scopes [${body.payment.scopes}]`);
  print('  payment-service sent it to m2m-auth with its own credentials:');
  print('    grant_type=urn:ietf:params:oauth:grant-type:token-exchange  subject_token=<that token>');
  print(`    audience=${LEDGER_API}  scope=ledger:append`);
  print(`  and called the ledger with the answer; ledger-service saw (principal.subject, principal.actors):`);
  print(`    subject   ${entry.on_behalf_of}   (order-service: whose charge it is)`);
  print(`    actors    ${entry.actors.map((actor) => `${actor.subject} (client ${actor.client_id})`).join(' ← ')}   (payment-service: who acted)`);
  print(`    client_id ${entry.client_id}, scopes [${entry.scopes}]`);
  const exchanges = demo.events.filter((event) => event.source === 'payment-service' && event.type === 'token.fetched');
  print(`  payment-service exchanged ${exchanges.length} tokens so far: one per order-service token, reused while it lives`);
  const policies = await m2mAuth(demo.dataDir, ['exchange-policies', 'list']);
  print(
    `  m2m-auth exchange-policies list → ${policies.length} policy: ${policies.map((p) => `${short(p.client_id)} ← ${short(p.subject_client_id)} → ${p.api}`).join(', ')}`,
  );
  // Never wider: a token that does not carry ledger:append (order-service's inventory token)
  // cannot become one that does, even under the policy.
  const inventoryToken = (await requestToken(demo, demo.clients.order.client_secret, { audience: INVENTORY_API })).body.access_token;
  const narrow = await exchangeAs(demo, demo.clients.payment, inventoryToken);
  print(`  payment-service exchanging order-service's inventory token (no ledger:append) → ${narrow.status} ${narrow.body.error}`);
  // Only the subjects the policy names: reporting-service's token is not order-service's.
  const reporting = await requestTokenWithAssertion(demo, await demo.platform.sign(serviceAccountClaims(REPORTING_SUBJECT, demo.urls.issuer)));
  const stranger = await exchangeAs(demo, demo.clients.payment, reporting.body.access_token);
  print(`  payment-service exchanging reporting-service's token (no policy names it) → ${stranger.status} ${stranger.body.error}`);
  return {
    ok:
      entry.on_behalf_of === demo.clients.order.client_id &&
      entry.actors.length === 1 &&
      entry.actors[0].subject === demo.clients.payment.client_id &&
      entry.client_id === demo.clients.payment.client_id &&
      narrow.body.error === 'invalid_scope' &&
      stranger.body.error === 'unauthorized_client',
    status,
    subject: entry.on_behalf_of,
    actors: entry.actors,
    clientId: entry.client_id,
    scopes: entry.scopes,
    exchanges: exchanges.length,
    policies: policies.length,
    narrower: narrow.body.error,
    stranger: stranger.body.error,
  };
}

/** Prints how to explore the running demo with curl (no secret on screen: it is in an env file). */
export function printExploreHints(demo, print) {
  const envFile = join(demo.dataDir, 'demo.env');
  const env = {
    M2M_AUTH_ISSUER: demo.urls.issuer,
    ORDER_SERVICE_URL: demo.urls.order,
    PAYMENT_SERVICE_URL: demo.urls.payment,
    INVENTORY_SERVICE_URL: demo.urls.inventory,
    LEDGER_SERVICE_URL: demo.urls.ledger,
    REPORTING_SERVICE_URL: demo.urls.reporting,
    PLATFORM_TOKEN_FILE: demo.platformTokenFile,
    REPORTING_CLIENT_ID: demo.clients.reporting.client_id,
    CLIENT_ID: demo.clients.order.client_id,
    CLIENT_SECRET: demo.clients.order.client_secret,
    PAYMENT_CLIENT_ID: demo.clients.payment.client_id,
    PAYMENT_CLIENT_SECRET: demo.clients.payment.client_secret,
    M2M_AUTH_DATA_DIR: demo.dataDir,
  };
  writeFileSync(
    envFile,
    Object.entries(env)
      .map(([name, value]) => `export ${name}='${value}'\n`)
      .join(''),
    { mode: 0o600 },
  );
  heading(print, 'Still running (--keep). Explore with curl; Ctrl-C stops everything and deletes the data directory');
  print(`  m2m-auth           ${demo.urls.issuer}   (discovery: ${demo.urls.issuer}/.well-known/oauth-authorization-server)`);
  print(`  order-service      ${demo.urls.order}`);
  print(`  payment-service    ${demo.urls.payment}`);
  print(`  inventory-service  ${demo.urls.inventory}`);
  print(`  ledger-service     ${demo.urls.ledger}`);
  print(`  reporting-service  ${demo.urls.reporting}   (no secret: its platform token, rewritten every ${PLATFORM_TOKEN_REFRESH_SECONDS} s)`);
  print(`  platform           ${demo.urls.platform}   (discovery: ${demo.urls.platform}/.well-known/openid-configuration)`);
  print('');
  print(`  source ${envFile}    # the URLs, order-service's client id and secret, the platform token's path`);
  print(`  curl -s -X POST "$ORDER_SERVICE_URL/orders" -H 'content-type: application/json' -d '{"sku":"sku-grinder","amount":8900}' | jq`);
  print(
    `  TOKEN=$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials -d audience=${PAYMENTS_API} -d scope=payments:write "$M2M_AUTH_ISSUER/oauth/token" | jq -r .access_token)`,
  );
  print('  curl -i -X POST -H "Authorization: Bearer $TOKEN" "$PAYMENT_SERVICE_URL/charges"    # 201');
  print('  curl -i -X POST -H "Authorization: Bearer $TOKEN" "$PAYMENT_SERVICE_URL/refunds"    # 403 insufficient_scope');
  print('  curl -i "$INVENTORY_SERVICE_URL/stock/sku-grinder" -H "Authorization: Bearer $TOKEN" # 401: wrong audience');
  print('  npx --no-install m2m-auth decode "$TOKEN"                                                       # header, claims, signature');
  print(
    `  ORDER_TOKEN=$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials -d audience=${PAYMENTS_API} -d scope='payments:write ledger:append' "$M2M_AUTH_ISSUER/oauth/token" | jq -r .access_token)`,
  );
  print(
    `  curl -s -u "$PAYMENT_CLIENT_ID:$PAYMENT_CLIENT_SECRET" -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange -d subject_token="$ORDER_TOKEN" -d subject_token_type=urn:ietf:params:oauth:token-type:access_token -d audience=${LEDGER_API} "$M2M_AUTH_ISSUER/oauth/token" | jq -r .access_token | xargs npx --no-install m2m-auth decode   # sub: order-service, act: payment-service`,
  );
  print('  npx --no-install m2m-auth exchange-policies list                                                # who may exchange whose tokens');
  print('  curl -s "$REPORTING_SERVICE_URL/report" | jq');
  print(
    `  curl -s -d grant_type=client_credentials -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer --data-urlencode client_assertion@"$PLATFORM_TOKEN_FILE" -d audience=${INVENTORY_API} "$M2M_AUTH_ISSUER/oauth/token" | jq   # no secret`,
  );
  print('  npx --no-install m2m-auth clients federated list --client "$REPORTING_CLIENT_ID"                 # the rule that lets it in');
  print('  npx --no-install m2m-auth clients list                                                          # (M2M_AUTH_DATA_DIR is set)');
}

// ── helpers ────────────────────────────────────────────────────────────────────────────────

async function placeOrder(demo, order = { sku: 'sku-espresso', amount: 1200 }) {
  return post(`${demo.urls.order}/orders`, { json: order });
}

async function get(url) {
  const response = await fetch(url);
  return { status: response.status, body: await response.json().catch(() => undefined) };
}

async function post(url, { json, token } = {}) {
  const headers = { ...(json ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const response = await fetch(url, { method: 'POST', headers, ...(json ? { body: JSON.stringify(json) } : {}) });
  return { status: response.status, wwwAuthenticate: response.headers.get('www-authenticate'), body: await response.json().catch(() => undefined) };
}

/** A token exchange by `client` (its id and secret) of `subjectToken` for a ledger token. */
async function exchangeAs(demo, client, subjectToken) {
  const response = await fetch(`${demo.urls.issuer}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}` },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: subjectToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: LEDGER_API,
    }),
  });
  return { status: response.status, body: await response.json() };
}

async function requestToken(demo, secret, params = { audience: PAYMENTS_API }) {
  const response = await fetch(`${demo.urls.issuer}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${demo.clients.order.client_id}:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...params }),
  });
  return { status: response.status, body: await response.json() };
}

/** A token request that authenticates with a platform token instead of a secret. */
async function requestTokenWithAssertion(demo, platformToken) {
  const response = await fetch(`${demo.urls.issuer}/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: platformToken,
      audience: INVENTORY_API,
    }),
  });
  return { status: response.status, body: await response.json() };
}

/**
 * Through the CLI, as an operator would: reporting-service's grant, the secret `clients create`
 * made revoked (nothing will ever use it), the platform trusted, and the one rule that maps its
 * service account to the client (the federated credential, returned).
 */
async function setUpSecretless(dataDir, platform, client) {
  const [secrets] = await Promise.all([
    m2mAuth(dataDir, ['clients', 'secrets', 'list', client.client_id]),
    m2mAuth(dataDir, ['grants', 'create', '--client', client.client_id, '--api', INVENTORY_API, '--scopes', 'inventory:read']),
    m2mAuth(dataDir, ['issuers', 'add', '--issuer', platform.issuer, '--kind', 'kubernetes']),
  ]);
  await Promise.all(secrets.map((secret) => m2mAuth(dataDir, ['clients', 'secrets', 'revoke', client.client_id, secret.id])));
  return m2mAuth(dataDir, [
    'clients',
    'federated',
    'add',
    '--client',
    client.client_id,
    '--issuer',
    platform.issuer,
    '--subject',
    REPORTING_SUBJECT,
    '--claim',
    `kubernetes.io/namespace=${REPORTING_NAMESPACE}`,
  ]);
}

/** The claims of a Kubernetes projected service-account token for `audience`. */
function serviceAccountClaims(subject, audience) {
  const [, , namespace, name] = subject.split(':');
  return { sub: subject, aud: [audience], 'kubernetes.io': { namespace, serviceaccount: { name, uid: randomUUID() } } };
}

/** Orders every 200 ms until stop(), which resolves with every status. */
function keepOrdering(demo) {
  const statuses = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      statuses.push((await placeOrder(demo)).status);
      await sleep(200);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return statuses;
    },
  };
}

const decode = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
const encode = (claims) => Buffer.from(JSON.stringify(claims)).toString('base64url');
/** A secret is shown only by its last four characters, as `m2m-auth clients show` does. */
const hint = (secret) => `…${secret.slice(-4)}`;
const short = (jti) => (jti ? `${jti.slice(0, 8)}…` : '?');
const seconds = () => Math.floor(Date.now() / 1000);
const clock = () => new Date().toISOString().slice(11, 19);

function heading(print, title, subtitle) {
  print('');
  print(`── ${title} ${'─'.repeat(Math.max(3, 96 - title.length))}`);
  if (subtitle) print(`  ${subtitle}`);
}
