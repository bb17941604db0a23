import { SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import type { ClientAuthenticator } from '../client-auth/authenticate-client.js';
import type { GrantType } from '../grants/grant-type.js';
import type { GrantDirectory } from '../grants/client-credentials-grant.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { JwsSigner } from '../tokens/jws-signer.js';
import type { SharedState } from '../state/types.js';
import type { Admin } from '../admin/admin.js';
import type { EndpointEventBus } from '../protocol/endpoint-events.js';
import { toOAuthResponse } from '../errors/to-oauth-response.js';
import { isAdminError } from '../errors/admin-error.js';
import { OAuthError } from '../errors/oauth-error.js';

/**
 * Traces of the token, introspection, revocation and admin paths, as decorators the composition
 * root puts around the ports (client authentication, grants, signing, storage, shared state,
 * admin operations) when a tracer is configured. Without one nothing here is called: the request
 * path is the same code as without tracing, with no span, closure or context made per request.
 *
 * Attributes are bounded values that are never secret: an authenticated client's id, an audience,
 * a grant type, an algorithm and key id, an operation's name, a result, an error's code. A
 * presented client id before authentication (it could be a secret pasted into the wrong field),
 * a token, a jti, an assertion, a secret or an error message never go into a span.
 */

/**
 * Whether a child span would be recorded: only under a recorded span. Each decorator asks first,
 * so a request outside a sampled trace (or a background call outside any request) costs it this
 * one check, with no span, context or closure made.
 */
const isRecording = () => trace.getActiveSpan()?.isRecording() === true;

/** Runs `work` in a child span of the active one; an error ends it with the error's code, never its message. */
function inSpan<T>(tracer: Tracer, name: string, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      markFailed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

function markFailed(span: Span, error: unknown): void {
  const code = errorCodeOf(error);
  span.setAttribute('error.type', code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
}

/** An OAuth or admin error code, else the error class's name: never the message, which may quote input. */
export function errorCodeOf(error: unknown): string {
  if (error instanceof OAuthError) return error.error;
  if (isAdminError(error)) return error.code;
  return error instanceof Error ? error.name : 'unknown';
}

export function traceClientAuthentication(tracer: Tracer, authenticate: ClientAuthenticator): ClientAuthenticator {
  return (credentials, remoteAddress) =>
    !isRecording()
      ? authenticate(credentials, remoteAddress)
      : inSpan(tracer, 'client authentication', { 'oauth.client_auth_method': credentials.method }, async (span) => {
          const authenticated = await authenticate(credentials, remoteAddress);
          span.setAttribute('oauth.client_id', authenticated.client.clientId);
          return authenticated;
        });
}

export function traceGrant(tracer: Tracer, grant: GrantType): GrantType {
  const name = `grant ${grant.grantType}`;
  // Everything the grant declares passes through (its policy permission, its own credentials); only handle is wrapped, and the DPoP binding reaches it.
  return {
    ...grant,
    handle: (client, params, binding) =>
      !isRecording()
        ? grant.handle(client, params, binding)
        : inSpan(tracer, name, { 'oauth.grant_type': grant.grantType, 'oauth.client_id': client.clientId }, async (span) => {
            const result = await grant.handle(client, params, binding);
            span.setAttribute('oauth.audience', result.audience);
            return result;
          }),
  };
}

/**
 * The grant's reads with every signature in a span: under a recorded span the key ring is handed
 * out wrapped, its wrapper and each signer's made once.
 */
export function traceSigning<D extends Pick<GrantDirectory, 'keyRing'>>(tracer: Tracer, directory: D): D {
  const rings = new WeakMap<KeyRing, KeyRing>();
  const signers = new WeakMap<JwsSigner, JwsSigner>();
  const tracedSigner = (signer: JwsSigner): JwsSigner => {
    let traced = signers.get(signer);
    if (!traced) {
      const attributes = { 'jws.alg': signer.alg, 'jws.kid': signer.kid };
      traced = {
        kid: signer.kid,
        alg: signer.alg,
        encodedHeader: signer.encodedHeader,
        sign: (input) => (!isRecording() ? signer.sign(input) : inSpan(tracer, 'token signing', attributes, async () => signer.sign(input))),
      };
      signers.set(signer, traced);
    }
    return traced;
  };
  const tracedRing = (ring: KeyRing): KeyRing => {
    let traced = rings.get(ring);
    if (!traced) {
      traced = {
        jwksJson: ring.jwksJson,
        records: ring.records,
        verificationKey: (kid) => ring.verificationKey(kid),
        signerFor: (alg, apiIdentifier) => {
          const signer = ring.signerFor(alg, apiIdentifier);
          return signer && tracedSigner(signer);
        },
      };
      rings.set(ring, traced);
    }
    return traced;
  };
  const keyRing = () => (!isRecording() ? directory.keyRing() : directory.keyRing().then(tracedRing));
  // Every other read of the directory (a grant, an API, exchange policies) is passed through as it is.
  return new Proxy(directory, {
    get: (target, property, receiver) => (property === 'keyRing' ? keyRing : (Reflect.get(target, property, receiver) as unknown)),
  });
}

/** Members that are not calls to trace: properties, lifecycle, subscriptions. */
const UNTRACED_STORAGE = new Set<PropertyKey>(['kind', 'close', 'watchChanges', 'then']);
const UNTRACED_STATE = new Set<PropertyKey>(['kind', 'close', 'health', 'then']);

/**
 * Every storage call made within a recorded request as a span `storage <operation>`, a
 * transaction's calls included. Calls outside any span (the registry's background refresh, the
 * readiness probe, last-use writes) are passed through, so traces hold requests, not polling.
 */
export function traceStorage<S extends object>(tracer: Tracer, storage: S & { readonly kind: string }): S {
  return traceStore(tracer, storage, storage.kind === 'postgres' ? 'postgresql' : storage.kind);
}

function traceStore<S extends object>(tracer: Tracer, store: S, system: string): S {
  return traceCalls(
    tracer,
    store,
    'storage',
    UNTRACED_STORAGE,
    (operation) => ({ 'db.system.name': system, 'db.operation.name': operation }),
    (operation, args) => {
      if (operation !== 'transaction' || typeof args[0] !== 'function') return args;
      const work = args[0] as (tx: object) => Promise<unknown>;
      return [(tx: object) => work(traceStore(tracer, tx, system))];
    },
  );
}

/** Shared-state calls (revocations, used assertions, failure counters, rate-limit buckets) within a traced request. */
export function traceSharedState(tracer: Tracer, state: SharedState): SharedState {
  return traceCalls(tracer, state, 'shared state', UNTRACED_STATE, (operation) => ({
    'm2m_auth.state.kind': state.kind,
    'm2m_auth.state.operation': operation,
  }));
}

/** Admin operations as spans `admin <operation>`; the handles `withActor` and `asCaller` return are traced too. */
export function traceAdmin(tracer: Tracer, admin: Admin): Admin {
  const traced = traceCalls(tracer, admin, 'admin', new Set(['actor', 'withActor', 'asCaller', 'then']), (operation) => ({
    'm2m_auth.admin.operation': operation,
  }));
  return new Proxy(traced, {
    get(target, property, receiver) {
      if (property === 'withActor') return (actor: string) => traceAdmin(tracer, admin.withActor(actor));
      if (property === 'asCaller') return (caller: Parameters<Admin['asCaller']>[0]) => traceAdmin(tracer, admin.asCaller(caller));
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

/**
 * A proxy whose methods run in a span named `${prefix} ${method}` under a recorded span; each
 * wrapped method is made once. A method that answers synchronously ends its span at once.
 */
function traceCalls<T extends object>(
  tracer: Tracer,
  target: T,
  prefix: string,
  untraced: ReadonlySet<PropertyKey>,
  attributesOf: (operation: string) => Attributes,
  adaptArguments: (operation: string, args: unknown[]) => unknown[] = (_operation, args) => args,
): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string' || untraced.has(property)) return value;
      let method = wrapped.get(property);
      if (!method) {
        const original = value as (...args: unknown[]) => unknown;
        const name = `${prefix} ${property}`;
        const attributes = attributesOf(property);
        method = (...args: unknown[]) => {
          if (!isRecording()) return original.apply(object, args);
          return tracer.startActiveSpan(name, { attributes }, (span) => {
            let result: unknown;
            try {
              result = original.apply(object, adaptArguments(property, args));
            } catch (error) {
              markFailed(span, error);
              span.end();
              throw error;
            }
            if (!isPromiseLike(result)) {
              span.end();
              return result;
            }
            return result.then(
              (answer) => {
                span.end();
                return answer;
              },
              (error: unknown) => {
                markFailed(span, error);
                span.end();
                throw error;
              },
            );
          });
        };
        wrapped.set(property, method);
      }
      return method;
    },
  });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * What the endpoints report, as attributes of the request's span (the active one when they
 * emit): the same bounded values the metrics carry, a subscriber like them.
 */
export function annotateEndpointEvents(events: EndpointEventBus): void {
  const annotate = (attributes: Attributes) => trace.getActiveSpan()?.setAttributes(attributes);
  const failed = (error: unknown, clientId?: string) =>
    annotate({ 'oauth.error': toOAuthResponse(error).body.error, 'm2m_auth.result': 'failed', ...(clientId ? { 'oauth.client_id': clientId } : {}) });
  events.on('token.issued', ({ clientId, grantType, audience }) =>
    annotate({ 'oauth.client_id': clientId, 'oauth.grant_type': grantType, 'oauth.audience': audience, 'm2m_auth.result': 'issued' }),
  );
  events.on('token.failed', ({ error, clientId }) => failed(error, clientId));
  events.on('introspection.answered', ({ result }) => annotate({ 'm2m_auth.result': result }));
  events.on('introspection.failed', ({ error }) => failed(error));
  events.on('token.revoked', ({ clientId }) => annotate({ 'oauth.client_id': clientId, 'm2m_auth.result': 'revoked' }));
  events.on('revocation.failed', ({ error }) => failed(error));
}
