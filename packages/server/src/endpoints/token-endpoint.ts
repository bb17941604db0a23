import type { RegisteredClient } from '../storage/types.js';
import { OAuthError, invalidRequest } from '../errors/oauth-error.js';
import type { ClientAuthenticator } from '../client-auth/authenticate-client.js';
import { CLIENT_AUTH_PARAMETERS, extractClientCredentials } from '../client-auth/client-credentials.js';
import type { GrantType } from '../grants/grant-type.js';
import type { TokenRequest } from '../protocol/token-request.js';
import type { EndpointEvents } from '../protocol/endpoint-events.js';
import { type FormParams } from '../protocol/form-params.js';
import { rejectRepeatedParameters, rejectUnstorableParameters } from './parameter-checks.js';
import type { TokenRateLimiter } from './token-rate-limiter.js';
import type { ClientQuotaCheck } from '../usage/client-quota.js';
import { jsonResponse, type EndpointResponse } from '../protocol/endpoint-response.js';
import { errorResponse } from '../errors/error-response.js';
import type { TokenEndpointDpop } from '../sender-constraint/token-endpoint-dpop.js';
import { combinedBinding, tokenTypeOf } from '../sender-constraint/token-binding.js';
import { certificateBinding } from '../sender-constraint/certificate-binding.js';

export interface TokenEndpointDeps {
  authenticate: ClientAuthenticator;
  grants: readonly GrantType[];
  /** Optional rate limits: per address before authentication, per client after it. */
  rateLimiter?: TokenRateLimiter | undefined;
  /** Counts each issued token against its client's quota; enforced, refuses past it (429). */
  quota?: ClientQuotaCheck | undefined;
  /** Told of every token issued (the audit trail) and every error, with its log-only detail, before it is rendered. */
  events?: EndpointEvents;
  /** DPoP (RFC 9449): proofs checked, tokens bound to their key. Without it a DPoP header is refused. */
  dpop?: TokenEndpointDpop;
}

/**
 * POST /oauth/token, as the RFC 6749 checklist: parameters, grant type, the DPoP proof's own
 * checks, client authentication (a TLS client certificate among the ways), grant-type permission,
 * the certificate and the proof bound to the client, then the grant itself. (No answer is cached: http/cache-policy.ts.)
 */
export function createTokenEndpoint(deps: TokenEndpointDeps) {
  const grants = new Map(deps.grants.map((grant) => [grant.grantType, grant]));

  return async function tokenEndpoint(request: TokenRequest): Promise<EndpointResponse> {
    let client: RegisteredClient | undefined;
    try {
      const grant = selectGrant(grants, request.params);
      rejectRepeatedParameters(request.params, ['grant_type', ...CLIENT_AUTH_PARAMETERS, ...grant.parameters]);
      rejectUnstorableParameters(request.params, grant.parameters);
      const credentials = grant.credentialsFrom
        ? credentialsOfGrant(grant, request)
        : extractClientCredentials(request.authorization, request.params, request.clientCertificate);
      await deps.rateLimiter?.checkAddress(request.remoteAddress);
      const proof = checkProof(deps.dpop, request.dpopProof);
      const authenticated = await deps.authenticate(credentials, request.remoteAddress);
      client = authenticated.client;
      await deps.rateLimiter?.checkClient(client.clientId);
      if (!grant.permittedByPolicy && !client.grantTypes.includes(grant.grantType)) {
        throw new OAuthError('unauthorized_client', `This client may not use the ${grant.grantType} grant.`);
      }
      // A missing certificate refuses before a proof is used; the proof is used once before
      // anything is counted or issued: a refused one costs no quota.
      const certificate = certificateBinding(request.clientCertificate, client);
      const binding = combinedBinding(await deps.dpop?.bind(proof, client), certificate);
      // Before the grant issues (and, for an opaque token, stores) a token; a quota counts tokens
      // issued, so the count is given back when the grant refuses.
      const admitted = await deps.quota?.admit(client, request.requestId);
      const result = await grant.handle(client, request.params, binding).catch((error: unknown) => {
        admitted?.giveBack();
        throw error;
      });
      const { token } = result;
      deps.events?.emit('token.issued', {
        clientId: client.clientId,
        grantType: grant.grantType,
        audience: result.audience,
        scope: token.scope,
        jti: token.jti,
        expiresIn: token.expiresIn,
        credential: authenticated.credential,
        requestId: request.requestId,
      });
      return jsonResponse(
        200,
        {
          access_token: result.token.accessToken,
          token_type: tokenTypeOf(binding),
          expires_in: result.token.expiresIn,
          scope: result.token.scope,
          ...(result.issuedTokenType ? { issued_token_type: result.issuedTokenType } : {}),
        },
        deps.dpop?.answerHeaders(proof),
      );
    } catch (error) {
      deps.events?.emit('token.failed', { error, clientId: client?.clientId, requestId: request.requestId });
      return errorResponse(error);
    }
  };
}

function checkProof(dpop: TokenEndpointDpop | undefined, header: string | undefined) {
  if (dpop) return dpop.check(header);
  if (header !== undefined) throw new OAuthError('invalid_dpop_proof', 'This server does not accept DPoP proofs.');
  return undefined;
}

/** A grant that authenticates by its own parameter takes no other client authentication (one method per request, RFC 6749 §2.3). */
function credentialsOfGrant(grant: GrantType, request: TokenRequest) {
  const { params } = request;
  if (request.authorization !== undefined || params.get('client_secret') !== undefined || params.get('client_assertion') !== undefined) {
    throw invalidRequest(`The ${grant.grantType} grant authenticates with its assertion alone; send no other client credentials.`);
  }
  return grant.credentialsFrom!(params);
}

function selectGrant(grants: Map<string, GrantType>, params: FormParams): GrantType {
  rejectRepeatedParameters(params, ['grant_type']);
  const grantType = params.get('grant_type');
  if (grantType === undefined) throw invalidRequest('The grant_type parameter is required.');
  const grant = grants.get(grantType);
  if (!grant) {
    // Not echoed: a secret pasted into the wrong field must not come back or reach the log.
    throw new OAuthError('unsupported_grant_type', `The grant type is not supported; supported: ${[...grants.keys()].join(', ')}.`);
  }
  return grant;
}
