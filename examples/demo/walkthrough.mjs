// The seed scenario, step by step: m2m-auth, order-service → payment-service + inventory-service,
// and reporting-service → inventory-service with no secret (its platform's token instead).
// `startDemo` sets everything up through the CLI; `runWalkthrough` runs the steps and returns
// what each one observed, so examples/test/demo.test.js can assert it and `demo.mjs` can print it.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, m2mAuth, startAuthServer } from './auth-server.mjs';
import { INVENTORY_API, startInventoryService } from './inventory-service.mjs';
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
    // The first command creates the master key and signing keys; the others can then run together.
    await m2mAuth(dataDir, ['apis', 'create', '--identifier', PAYMENTS_API, '--name', 'payment-service', '--scopes', 'payments:write,payments:refund']);
    const [, orderClient, paymentClient, inventoryClient, reportingClient] = await Promise.all([
      m2mAuth(dataDir, ['apis', 'create', '--identifier', INVENTORY_API, '--name', 'inventory-service', '--scopes', 'inventory:read,inventory:write']),
      ...['order-service', 'payment-service', 'inventory-service', 'reporting-service'].map((name) => m2mAuth(dataDir, ['clients', 'create', '--name', name])),
    ]);
    print(`  APIs      ${PAYMENTS_API} (payments:write, payments:refund)`);
    print(`            ${INVENTORY_API} (inventory:read, inventory:write)`);
    await Promise.all([
      m2mAuth(dataDir, [
        'grants',
        'create',
        '--client',
        orderClient.client_id,
        '--api',
        PAYMENTS_API,
        '--scopes',
        'payments:write',
        '--token-ttl',
        String(PAYMENTS_TOKEN_TTL),
      ]),
      m2mAuth(dataDir, ['grants', 'create', '--client', orderClient.client_id, '--api', INVENTORY_API, '--scopes', 'inventory:read']),
    ]);
    print(`  clients   order-service      ${orderClient.client_id}  secret ${hint(orderClient.client_secret)}`);
    print(`              grants: payments:write on payments (tokens live ${PAYMENTS_TOKEN_TTL} s), inventory:read on inventory`);
    print(`            payment-service    ${paymentClient.client_id}  no grants: it calls no one`);
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

    const port = await freePort();
    auth = await startAuthServer({ dataDir, port });
    const issuer = auth.url;
    const payment = await startPaymentService({ issuer, onEvent: record('payment-service') });
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
    print(`  payment-service    ${payment.url}  Express + @m2m-auth/resource-server, needs payments:write`);
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
      urls: { issuer, order: order.url, payment: payment.url, inventory: inventory.url, reporting: reportingService.url, platform: platform.issuer },
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
];

async function goodOrder(demo, print) {
  const { status, body } = await placeOrder(demo);
  print(`  POST ${demo.urls.order}/orders → ${status}`);
  if (status !== 201) return { ok: false, status, body };
  print(`  inventory-service saw caller ${body.stock.caller} with scopes [${body.stock.scopes}] → ${body.stock.available} in stock`);
  print(`  payment-service   saw caller ${body.payment.caller} with scopes [${body.payment.scopes}] → charge ${body.payment.charge_id}`);
  const fetched = demo.events.filter((event) => event.source === 'order-service' && event.type === 'token.fetched');
  print(`  order-service fetched ${fetched.length} tokens, one per audience; every further call reuses them`);
  return {
    ok: body.stock.caller === demo.clients.order.client_id && body.payment.caller === demo.clients.order.client_id && fetched.length === 2,
    status,
    inventoryScopes: body.stock.scopes,
    paymentScopes: body.payment.scopes,
    tokensFetched: fetched.length,
    paymentToken: body.payment.token,
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

/** Prints how to explore the running demo with curl (no secret on screen: it is in an env file). */
export function printExploreHints(demo, print) {
  const envFile = join(demo.dataDir, 'demo.env');
  const env = {
    M2M_AUTH_ISSUER: demo.urls.issuer,
    ORDER_SERVICE_URL: demo.urls.order,
    PAYMENT_SERVICE_URL: demo.urls.payment,
    INVENTORY_SERVICE_URL: demo.urls.inventory,
    REPORTING_SERVICE_URL: demo.urls.reporting,
    PLATFORM_TOKEN_FILE: demo.platformTokenFile,
    REPORTING_CLIENT_ID: demo.clients.reporting.client_id,
    CLIENT_ID: demo.clients.order.client_id,
    CLIENT_SECRET: demo.clients.order.client_secret,
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
  print('  npx m2m-auth decode "$TOKEN"                                                       # header, claims, signature');
  print('  curl -s "$REPORTING_SERVICE_URL/report" | jq');
  print(
    `  curl -s -d grant_type=client_credentials -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer --data-urlencode client_assertion@"$PLATFORM_TOKEN_FILE" -d audience=${INVENTORY_API} "$M2M_AUTH_ISSUER/oauth/token" | jq   # no secret`,
  );
  print('  npx m2m-auth clients federated list --client "$REPORTING_CLIENT_ID"                 # the rule that lets it in');
  print('  npx m2m-auth clients list                                                          # (M2M_AUTH_DATA_DIR is set)');
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
