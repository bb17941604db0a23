import { describe, expect, it } from 'vitest';
import { trace } from '@opentelemetry/api';
import { traceGrant } from '../../src/observability/tracing.js';
import type { GrantType } from '../../src/grants/grant-type.js';
import { EMPTY_FORM } from '../../src/protocol/form-params.js';

describe('traceGrant', () => {
  it('keeps what a grant declares besides handle: with tracing on, token exchange and the JWT bearer grant still work', () => {
    const credentialsFrom = () => ({ method: 'federated' as const, profile: 'jwt-bearer' as const, clientId: undefined, assertion: 'a' });
    const grant: GrantType = {
      grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      parameters: ['assertion'],
      permittedByPolicy: true,
      credentialsFrom,
      handle: async () => {
        throw new Error('not called');
      },
    };
    const traced = traceGrant(trace.getTracer('test'), grant);
    expect(traced.permittedByPolicy).toBe(true);
    expect(traced.credentialsFrom).toBe(credentialsFrom);
    expect(traced.parameters).toEqual(['assertion']);
  });

  it('hands the DPoP binding on to the grant', async () => {
    const seen: unknown[] = [];
    const grant: GrantType = {
      grantType: 'client_credentials',
      parameters: [],
      handle: async (_client, _params, binding) => {
        seen.push(binding);
        return { token: { accessToken: 't', expiresIn: 60, scope: '', jti: 'j', expiresAt: 0 }, audience: 'https://a.example', scopes: [] };
      },
    };
    await traceGrant(trace.getTracer('test'), grant).handle({ clientId: 'c' } as never, EMPTY_FORM, { jkt: 'thumbprint' });
    expect(seen).toEqual([{ jkt: 'thumbprint' }]);
  });
});
