/**
 * How each provider wants a client-credentials request, as data. `audience` says how an API
 * identifier travels: Auth0's `audience` parameter, RFC 8707 `resource`, Entra's
 * `scope=<resource>/.default`, Cognito's `<resource-server>/<scope>` scope names, or not at all
 * (Keycloak and Okta put the audience in the server's configuration).
 */
import { describeValue, httpsOrigin, withoutTrailingSlashes } from '@m2m-auth/sdk-core';
import { optionChecks } from './option-checks.js';
import type { AudienceStyle, ClientPreset } from './token-client-options.js';

/** Checks a preset's options when it is called (a JavaScript caller may pass anything). */
function presetOptions<T>(preset: string, value: unknown, required: readonly string[], optional: readonly string[] = []): T {
  const check = optionChecks(`presets.${preset}`);
  if (value === null || typeof value !== 'object') check.fail(`needs an options object (got ${describeValue(value)}).`);
  const options = check.object(value, 'options', [...required, ...optional])!;
  for (const name of required) check.required(check.string(options[name], name), name, 'it names where the provider is');
  for (const name of optional) check.string(options[name], name);
  return options as T;
}

export const presets = {
  /** m2m-auth: endpoints from discovery, `audience` parameter. */
  m2mAuth: (input: { issuer: string }): ClientPreset => {
    const options = presetOptions<{ issuer: string }>('m2mAuth', input, ['issuer'], []);
    return { name: 'm2m-auth', issuer: withoutTrailingSlashes(options.issuer), audience: 'audience' };
  },
  /** Keycloak: `{baseUrl}/realms/{realm}`; the audience comes from the client's audience mapper. */
  keycloak: (input: { baseUrl: string; realm: string }): ClientPreset => {
    const options = presetOptions<{ baseUrl: string; realm: string }>('keycloak', input, ['baseUrl', 'realm'], []);
    return {
      name: 'keycloak',
      tokenEndpoint: `${httpsOrigin(options.baseUrl)}/realms/${encodeURIComponent(options.realm)}/protocol/openid-connect/token`,
      audience: 'none',
      authMethod: 'client_secret_basic',
    };
  },
  /** Auth0: `https://{domain}/oauth/token` with the `audience` parameter. */
  auth0: (input: { domain: string }): ClientPreset => {
    const options = presetOptions<{ domain: string }>('auth0', input, ['domain'], []);
    return {
      name: 'auth0',
      tokenEndpoint: `${httpsOrigin(options.domain)}/oauth/token`,
      audience: 'audience',
      authMethod: 'client_secret_post',
    };
  },
  /** Microsoft Entra ID v2: the audience becomes `scope=<resource>/.default`. */
  entra: (input: { tenantId: string; authority?: string }): ClientPreset => {
    const options = presetOptions<{ tenantId: string; authority?: string }>('entra', input, ['tenantId'], ['authority']);
    return {
      name: 'entra',
      tokenEndpoint: `${httpsOrigin(options.authority ?? 'login.microsoftonline.com')}/${encodeURIComponent(options.tenantId)}/oauth2/v2.0/token`,
      audience: 'entra-default-scope',
      authMethod: 'client_secret_post',
    };
  },
  /** AWS Cognito: `https://{domain}/oauth2/token`; scopes are `<resource-server>/<scope>`, no audience parameter. */
  cognito: (input: { domain: string }): ClientPreset => {
    const options = presetOptions<{ domain: string }>('cognito', input, ['domain'], []);
    return {
      name: 'cognito',
      tokenEndpoint: `${httpsOrigin(options.domain)}/oauth2/token`,
      audience: 'cognito-scope-prefix',
      authMethod: 'client_secret_basic',
    };
  },
  /** Okta custom authorization server: `https://{domain}/oauth2/{id}/v1/token`. */
  okta: (input: { domain: string; authorizationServerId?: string }): ClientPreset => {
    const options = presetOptions<{ domain: string; authorizationServerId?: string }>('okta', input, ['domain'], ['authorizationServerId']);
    return {
      name: 'okta',
      tokenEndpoint: `${httpsOrigin(options.domain)}/oauth2/${encodeURIComponent(options.authorizationServerId ?? 'default')}/v1/token`,
      audience: 'none',
      authMethod: 'client_secret_basic',
    };
  },
} as const;

/** The token request parameters for an audience and scopes, in the preset's dialect. */
export function audienceParameters(
  style: AudienceStyle,
  audience: string | undefined,
  scopes: readonly string[],
): { scope: string[]; extra: Record<string, string> } {
  if (!audience) return { scope: [...scopes], extra: {} };
  switch (style) {
    case 'audience':
      return { scope: [...scopes], extra: { audience } };
    case 'resource':
      return { scope: [...scopes], extra: { resource: audience } };
    case 'entra-default-scope':
      // Entra grants app permissions per resource: the only client-credentials scope is `.default`.
      return { scope: [`${withoutTrailingSlashes(audience)}/.default`], extra: {} };
    case 'cognito-scope-prefix':
      return { scope: scopes.map((s) => (s.includes('/') ? s : `${audience}/${s}`)), extra: {} };
    case 'none':
      return { scope: [...scopes], extra: {} };
  }
}
