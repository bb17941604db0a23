import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
// @ts-expect-error -- a plain ESM script, typed by use
import { MARKDOWN_FILE, OPENAPI_FILE, renderAdminApiMarkdown } from '../../../../scripts/admin-api-docs.mjs';

describe('admin API OpenAPI document', () => {
  let t: TestApp;
  let served: Record<string, any>;
  beforeAll(async () => {
    t = await createTestApp();
    const response = await t.app.inject({ method: 'GET', url: '/admin/v1/openapi.json' });
    expect(response.statusCode).toBe(200);
    served = response.json();
  });
  afterAll(() => t.close());

  it('is a valid OpenAPI 3.1 document (checked by an independent validator)', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(served));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('is exactly the committed copy, and docs/admin-api.md renders it (run `npm run docs:admin-api` after changing a route)', () => {
    expect(JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'))).toEqual(served);
    expect(readFileSync(MARKDOWN_FILE, 'utf8')).toBe(renderAdminApiMarkdown(served));
  });

  it('describes every admin route with its scope, and the same schemas that validate requests', async () => {
    const operations = Object.entries(served.paths as Record<string, Record<string, any>>).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method, op })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(22);
    for (const { op } of operations) expect(op.security?.[0]?.adminToken?.length).toBeGreaterThanOrEqual(1);
    const createApi = served.paths['/admin/v1/apis'].post.requestBody.content['application/json'].schema;
    expect(createApi.required).toEqual(['identifier']);
    expect(createApi.additionalProperties).toBe(false);
    // The served schema is the one enforced: a field it does not list is refused.
    const boot = await t.runtime.admin.bootstrapAdminClient();
    const token = (
      await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${boot.clientId}:${boot.clientSecret}`).toString('base64')}`,
        },
        payload: 'grant_type=client_credentials&audience=urn:m2m-auth:admin',
      })
    ).json();
    const refused = await t.app.inject({
      method: 'POST',
      url: '/admin/v1/apis',
      headers: { authorization: `Bearer ${token.access_token}` },
      payload: { identifier: 'https://x.example', [`not_in_${Object.keys(createApi.properties).length}`]: 1 },
    });
    expect(refused.statusCode).toBe(400);
  });
});
