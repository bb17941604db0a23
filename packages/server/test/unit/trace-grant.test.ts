import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { traceGrant } from '../../src/observability/tracing.js';
import type { GrantType } from '../../src/grants/grant-type.js';
import { EMPTY_FORM } from '../../src/protocol/form-params.js';

describe('traceGrant', () => {
  it('is the grant it wraps: the DPoP binding reaches it, its permission by policy and its credentials stay', async () => {
    const seen: unknown[] = [];
    const grant: GrantType = {
      grantType: 'urn:test',
      parameters: ['assertion'],
      permittedByPolicy: true,
      credentialsFrom: () => ({ method: 'federated', profile: 'jwt-bearer', clientId: undefined, assertion: 'a' }),
      handle: async (_client, _params, binding) => {
        seen.push(binding);
        return { token: { accessToken: 't', expiresIn: 60, scope: '', jti: 'j', expiresAt: 0 }, audience: 'https://a.example', scopes: [] };
      },
    };
    const traced = traceGrant(trace.getTracer('test'), grant);
    expect(traced.permittedByPolicy).toBe(true);
    expect(traced.credentialsFrom?.(EMPTY_FORM)).toMatchObject({ method: 'federated' });
    await traced.handle({ clientId: 'c' } as never, EMPTY_FORM, { jkt: 'thumbprint' });
    expect(seen).toEqual([{ jkt: 'thumbprint' }]);
  });
});
