import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../scripts/sync-doc-includes.mjs';
import { presets } from '@m2m-auth/resource-server';

describe('the provider guides', () => {
  // Okta's default authorization server puts api://default in every token's aud: a verifier for it
  // that expects another audience refuses every token.
  it('okta.md: a verifier for the default authorization server expects api://default', () => {
    const markdown = readFileSync(join(ROOT, 'docs/providers/okta.md'), 'utf8');
    const calls = [...markdown.matchAll(/presets\.okta\(\{([^}]*audience[^}]*)\}\)/g)].map((match) => match[1]);
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      const server = /authorizationServerId: '([^']+)'/.exec(call)?.[1] ?? 'default';
      const audience = /audience: '([^']+)'/.exec(call)?.[1];
      if (server === 'default') expect(audience, call).toBe('api://default');
      else expect(audience, call).not.toBe('api://default');
    }
    expect(markdown).toContain('`api://default`');
  });

  it('entra-id.md: the national-cloud issuers it names are the ones the resource-server preset uses', () => {
    const markdown = readFileSync(join(ROOT, 'docs/providers/entra-id.md'), 'utf8');
    for (const authority of ['login.microsoftonline.us', 'login.partner.microsoftonline.cn']) {
      expect(markdown).toContain(`'${authority}'`);
      const v1 = presets.entra({ tenantId: '{tenantId}', audience: 'api://x', version: 1, authority }).issuer;
      expect(markdown).toContain(`\`${v1}\``);
    }
  });
});
