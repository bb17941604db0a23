import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Storage } from '../storage/types.js';
import { deriveSecrets } from '../keys/master-key.js';
import { createAdmin, type Admin } from '../admin/admin.js';
import { createAssertionReplayCache, type ClientAuthDeps } from '../client-auth/authenticate-client.js';
import { createFailureLimiter } from '../client-auth/failure-limiter.js';
import { createClientCredentialsGrant } from '../grants/client-credentials-grant.js';
import { createTokenEndpoint, type TokenRequest } from '../endpoints/token-endpoint.js';
import { createIntrospectionEndpoint } from '../endpoints/introspection-endpoint.js';
import { renderDiscoveryDocument, serverEndpoints, type ServerEndpoints } from '../endpoints/discovery.js';
import type { EndpointResponse } from '../endpoints/endpoint-response.js';
import { OAuthError } from '../errors/oauth-error.js';
import { createRegistryView, type RegistryView } from './registry-view.js';
import { signOnFor, type SignOn } from '../tokens/jws-signer.js';
import { createServerMetrics, type ServerMetrics } from './metrics.js';

export interface RuntimeOptions {
  storage: Storage;
  masterKey: Buffer;
  issuer: string;
  logger: Logger;
  now?: () => number;
  revisionCheckIntervalMs?: number;
  /** Where ECDSA and EdDSA signatures run. Default: the threadpool when this process is not alone on its cores (`signOnFor(1)`). */
  signOn?: SignOn;
}

/** The server without HTTP: endpoints as functions, the registry cache, and admin operations. */
export interface ServerRuntime {
  readonly issuer: string;
  /** The clock every endpoint uses (injected in tests). */
  readonly now: () => number;
  readonly endpoints: ServerEndpoints;
  readonly storage: Storage;
  readonly registry: RegistryView;
  readonly admin: Admin;
  readonly metrics: ServerMetrics;
  token(request: TokenRequest): Promise<EndpointResponse>;
  introspect(request: TokenRequest): Promise<EndpointResponse>;
  jwksJson(): Promise<string>;
  discoveryJson(): Promise<string>;
}

export function createRuntime(options: RuntimeOptions): ServerRuntime {
  const { storage, logger } = options;
  const now = options.now ?? Date.now;
  const { keyEncryptionKey: kek, secretPepper } = deriveSecrets(options.masterKey);
  const endpoints = serverEndpoints(options.issuer);
  const metrics = createServerMetrics();
  let discovery: Promise<string> | undefined;
  const registry = createRegistryView({
    storage,
    kek,
    now,
    ...(options.revisionCheckIntervalMs !== undefined ? { revisionCheckIntervalMs: options.revisionCheckIntervalMs } : {}),
    onReload: () => (discovery = undefined),
    signOn: options.signOn ?? signOnFor(1),
  });

  // The audit line of every token: its constant field is serialised once, not per token.
  const issuedLog = logger.child({ event: 'token.issued' });

  const clientAuth: ClientAuthDeps = {
    registry,
    secretPepper,
    now,
    limiter: createFailureLimiter({ now }),
    assertionAudiences: [endpoints.issuer, endpoints.tokenEndpoint, endpoints.introspectionEndpoint],
    assertionReplay: createAssertionReplayCache(now),
  };

  const token = createTokenEndpoint({
    clientAuth,
    grants: [createClientCredentialsGrant({ issuer: endpoints.issuer, registry, now, newJti: randomUUID })],
    // The audit trail of token issuance is this log line, not a database write per token.
    onIssued: ({ client, grantType, result, requestId }) => {
      metrics.tokenIssued(client.clientId, result.audience);
      issuedLog.info(
        { reqId: requestId, clientId: client.clientId, grantType, audience: result.audience, scope: result.token.scope, jti: result.token.jti, expiresIn: result.token.expiresIn },
        'token issued',
      );
    },
    onError: (error, context) => {
      metrics.tokenFailed(error, context.clientId);
      logEndpointError(logger, 'token', error, context);
    },
  });

  const introspect = createIntrospectionEndpoint({
    issuer: endpoints.issuer,
    clientAuth,
    registry,
    now,
    onError: (error, context) => logEndpointError(logger, 'introspection', error, context),
  });

  return {
    issuer: endpoints.issuer,
    now,
    endpoints,
    storage,
    registry,
    metrics,
    admin: createAdmin({ storage, kek, secretPepper, now, actor: 'server', onChange: () => registry.invalidate() }),
    token,
    introspect,
    jwksJson: async () => (await registry.keyRing()).jwksJson,
    discoveryJson: () => {
      discovery ??= registry.apis().then((apis) => renderDiscoveryDocument(endpoints, apis));
      discovery.catch(() => (discovery = undefined));
      return discovery;
    },
  };
}

/** Client mistakes are logged at info with their log-only detail; server faults at error. */
export function logEndpointError(logger: Logger, endpoint: string, error: unknown, context: { clientId?: string | undefined; requestId?: string | undefined }) {
  const { clientId, requestId: reqId } = context;
  if (error instanceof OAuthError && error.status < 500) {
    logger.info({ event: `${endpoint}.rejected`, reqId, error: error.error, description: error.description, detail: error.detail, clientId }, 'request rejected');
  } else {
    logger.error({ event: `${endpoint}.failed`, reqId, err: error, clientId }, 'request failed');
  }
}
