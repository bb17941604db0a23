import { createOptionChecks, describeValue, httpsOrigin, withoutTrailingSlashes } from '@m2m-auth/sdk-core';
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

/** Checks a preset's options when it is called (a JavaScript caller may pass anything). */
function presetOptions<T>(preset: string, value: unknown, required: readonly string[], optional: readonly string[] = []): T {
  const fail = (message: string): never => {
    throw new TypeError(`presets.${preset}: ${message}`);
  };
  const check = createOptionChecks(fail);
  const options = check.object(value ?? fail(`needs an options object (got ${describeValue(value)}).`), 'options', [...required, ...optional])!;
  for (const name of [...required, ...optional]) {
    const option = options[name];
    if (option === undefined && optional.includes(name)) continue;
    if (name === 'audience') {
      if (Array.isArray(option)) check.stringList(option, name);
      else check.required(check.string(option, name), name, 'the API identifier tokens must name in aud');
    } else if (name === 'clientIds') {
      check.required(check.stringList(option, name), name, 'the app client ids whose tokens are accepted');
    } else if (name === 'version') {
      if (option !== 1 && option !== 2) fail(`version must be 1 or 2 (got ${describeValue(option)}).`);
    } else {
      check.required(check.string(option, name), name, 'it names where the provider is');
    }
  }
  return options as T;
}

/**
 * The host in the `iss` of Entra's v1 tokens, per cloud (the authority that issues them). v2 tokens
 * name the authority itself; v1 tokens an STS host of their own, which Microsoft documents for
 * these clouds only.
 */
const ENTRA_V1_ISSUER_HOSTS: Readonly<Record<string, string>> = {
  'login.microsoftonline.com': 'sts.windows.net',
  'login.microsoftonline.us': 'sts.windows.net',
  'login.partner.microsoftonline.cn': 'sts.chinacloudapi.cn',
  'login.chinacloudapi.cn': 'sts.chinacloudapi.cn',
};

export const presets = {
  /** m2m-auth: RFC 9068 tokens, `typ: at+jwt` required, scopes in `scope`, JWKS from discovery. */
  m2mAuth: (input: { issuer: string; audience: string | string[] }): ProviderPreset => {
    const options = presetOptions<{ issuer: string; audience: string | string[] }>('m2mAuth', input, ['issuer', 'audience'], []);
    return {
      name: 'm2m-auth',
      issuer: withoutTrailingSlashes(options.issuer),
      audience: options.audience,
      requireTyp: true,
      principalClaim: 'sub',
      authorities: { scopeClaims: ['scope'] },
    };
  },

  /** Keycloak: the client of a service account is `azp`; `aud` comes from an audience mapper. */
  keycloak: (input: { baseUrl: string; realm: string; audience: string | string[] }): ProviderPreset => {
    const options = presetOptions<{ baseUrl: string; realm: string; audience: string | string[] }>('keycloak', input, ['baseUrl', 'realm', 'audience'], []);
    const issuer = `${withoutTrailingSlashes(options.baseUrl)}/realms/${encodeURIComponent(options.realm)}`;
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
  auth0: (input: { domain: string; audience: string | string[] }): ProviderPreset => {
    const options = presetOptions<{ domain: string; audience: string | string[] }>('auth0', input, ['domain', 'audience'], []);
    return {
      name: 'auth0',
      issuer: `${httpsOrigin(options.domain)}/`,
      jwksUri: `${httpsOrigin(options.domain)}/.well-known/jwks.json`,
      audience: options.audience,
      requireTyp: false,
      principalClaim: 'azp',
      authorities: { scopeClaims: ['scope'], roleClaims: ['permissions'] },
    };
  },

  /**
   * Microsoft Entra ID. v2 tokens: issuer `{authority}/{tenant}/v2.0`, client in `azp`; v1 tokens:
   * issuer `https://sts.windows.net/{tenant}/` (the China cloud: `sts.chinacloudapi.cn`), client in
   * `appid`. App permissions arrive in `roles`, delegated ones in `scp`. `authority` is the cloud's
   * login host (`login.microsoftonline.us`, `login.partner.microsoftonline.cn`), as in the client's
   * preset; by default the global `login.microsoftonline.com`.
   */
  entra: (input: { tenantId: string; audience: string | string[]; version?: 1 | 2; authority?: string }): ProviderPreset => {
    type Options = { tenantId: string; audience: string | string[]; version?: 1 | 2; authority?: string };
    const options = presetOptions<Options>('entra', input, ['tenantId', 'audience'], ['version', 'authority']);
    const authority = httpsOrigin(options.authority ?? 'login.microsoftonline.com');
    const v1 = options.version === 1;
    return {
      name: 'entra',
      issuer: v1 ? `https://${entraV1IssuerHost(authority)}/${options.tenantId}/` : `${authority}/${options.tenantId}/v2.0`,
      jwksUri: `${authority}/${options.tenantId}/discovery/v2.0/keys`,
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
  cognito: (input: { region: string; userPoolId: string; clientIds: string[] }): ProviderPreset => {
    const options = presetOptions<{ region: string; userPoolId: string; clientIds: string[] }>('cognito', input, ['region', 'userPoolId', 'clientIds'], []);
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
  okta: (input: { domain: string; authorizationServerId?: string; audience: string | string[] }): ProviderPreset => {
    const options = presetOptions<{ domain: string; authorizationServerId?: string; audience: string | string[] }>(
      'okta',
      input,
      ['domain', 'audience'],
      ['authorizationServerId'],
    );
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

function entraV1IssuerHost(authority: string): string {
  const host = new URL(authority).host;
  const issuerHost = ENTRA_V1_ISSUER_HOSTS[host];
  if (issuerHost) return issuerHost;
  throw new TypeError(
    `presets.entra: the issuer of version 1 tokens from ${host} is not known (only from ${Object.keys(ENTRA_V1_ISSUER_HOSTS).join(', ')}); have the API accept version 2 tokens (accessTokenAcceptedVersion: 2).`,
  );
}
