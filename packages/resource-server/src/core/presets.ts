import type { AuthoritiesOptions } from './principal.js';

/**
 * What differs between providers, as data: issuer and JWKS location, which claim names the caller,
 * where scopes and roles live, and the checks that replace `aud` where a provider has none.
 */
export interface ProviderPreset {
  readonly name: string;
  readonly issuer: string;
  readonly jwksUri?: string;
  readonly audience?: string | readonly string[];
  readonly requireTyp: boolean;
  readonly principalClaim: string;
  readonly authorities: AuthoritiesOptions;
  readonly requiredClaims?: Readonly<Record<string, string>>;
  readonly allowedClientIds?: readonly string[];
}

const trimSlash = (value: string) => value.replace(/\/+$/, '');
const httpsOrigin = (domain: string) => (/^https?:\/\//.test(domain) ? trimSlash(domain) : `https://${trimSlash(domain)}`);

export const presets = {
  /** m2m-auth: RFC 9068 tokens, `typ: at+jwt` required, scopes in `scope`, JWKS from discovery. */
  m2mAuth: (options: { issuer: string; audience: string | string[] }): ProviderPreset => ({
    name: 'm2m-auth',
    issuer: trimSlash(options.issuer),
    audience: options.audience,
    requireTyp: true,
    principalClaim: 'sub',
    authorities: { scopeClaims: ['scope'] },
  }),

  /** Keycloak: the client of a service account is `azp`; `aud` comes from an audience mapper. */
  keycloak: (options: { baseUrl: string; realm: string; audience: string | string[] }): ProviderPreset => {
    const issuer = `${trimSlash(options.baseUrl)}/realms/${encodeURIComponent(options.realm)}`;
    return {
      name: 'keycloak',
      issuer,
      jwksUri: `${issuer}/protocol/openid-connect/certs`,
      audience: options.audience,
      requireTyp: false,
      principalClaim: 'azp',
      authorities: { scopeClaims: ['scope'] },
    };
  },

  /** Auth0: issuer ends with `/`; M2M tokens name the client in `azp`; RBAC permissions in `permissions`. */
  auth0: (options: { domain: string; audience: string | string[] }): ProviderPreset => ({
    name: 'auth0',
    issuer: `${httpsOrigin(options.domain)}/`,
    jwksUri: `${httpsOrigin(options.domain)}/.well-known/jwks.json`,
    audience: options.audience,
    requireTyp: false,
    principalClaim: 'azp',
    authorities: { scopeClaims: ['scope'], roleClaims: ['permissions'] },
  }),

  /**
   * Microsoft Entra ID. v2 tokens: issuer `…/{tenant}/v2.0`, client in `azp`; v1 tokens: issuer
   * `https://sts.windows.net/{tenant}/`, client in `appid`. App permissions arrive in `roles`,
   * delegated ones in `scp`.
   */
  entra: (options: { tenantId: string; audience: string | string[]; version?: 1 | 2 }): ProviderPreset => {
    const v1 = options.version === 1;
    return {
      name: 'entra',
      issuer: v1 ? `https://sts.windows.net/${options.tenantId}/` : `https://login.microsoftonline.com/${options.tenantId}/v2.0`,
      jwksUri: `https://login.microsoftonline.com/${options.tenantId}/discovery/v2.0/keys`,
      audience: options.audience,
      requireTyp: false,
      principalClaim: v1 ? 'appid' : 'azp',
      authorities: { scopeClaims: ['scp'], roleClaims: ['roles'] },
    };
  },

  /**
   * AWS Cognito: access tokens carry no `aud`; the client is `client_id` and must be one of ours,
   * and `token_use` must be `access` (an ID token must not pass as an access token).
   */
  cognito: (options: { region: string; userPoolId: string; clientIds: string[] }): ProviderPreset => {
    const issuer = `https://cognito-idp.${options.region}.amazonaws.com/${options.userPoolId}`;
    return {
      name: 'cognito',
      issuer,
      jwksUri: `${issuer}/.well-known/jwks.json`,
      requireTyp: false,
      principalClaim: 'client_id',
      authorities: { scopeClaims: ['scope'] },
      requiredClaims: { token_use: 'access' },
      allowedClientIds: options.clientIds,
    };
  },

  /** Okta custom authorization server: scopes in `scp` (an array), client in `cid`. */
  okta: (options: { domain: string; authorizationServerId?: string; audience: string | string[] }): ProviderPreset => {
    const issuer = `${httpsOrigin(options.domain)}/oauth2/${options.authorizationServerId ?? 'default'}`;
    return {
      name: 'okta',
      issuer,
      jwksUri: `${issuer}/v1/keys`,
      audience: options.audience,
      requireTyp: false,
      principalClaim: 'cid',
      authorities: { scopeClaims: ['scp'] },
    };
  },
} as const;
