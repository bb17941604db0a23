import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/http/start-server.js';

/** The admin API on the main listener, on its own address, or off. */
describe('where the admin API answers', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const status = async (url: string) => (await fetch(url)).status;

  it('on the main listener by default', async () => {
    server = await startServer({ storage: 'memory', port: 0, logger: 'silent' });
    expect(server.adminUrl).toBe(`${server.url}/admin/v1`);
    expect(await status(`${server.url}/admin/v1/apis`)).toBe(401);
  });

  it('on its own address and port: the token endpoint’s listener does not expose it', async () => {
    server = await startServer({ storage: 'memory', port: 0, logger: 'silent', adminApi: { host: '127.0.0.1', port: 0 } });
    expect(server.adminUrl).not.toContain(server.url);
    expect(await status(`${server.url}/admin/v1/apis`)).toBe(404);
    expect(await status(`${server.adminUrl}/apis`)).toBe(401);
    expect(await status(`${server.adminUrl}/openapi.json`)).toBe(200);
    expect(await status(`${server.url}/.well-known/jwks.json`)).toBe(200);
  });

  it('off with adminApi: false', async () => {
    server = await startServer({ storage: 'memory', port: 0, logger: 'silent', adminApi: false });
    expect(server.adminUrl).toBeUndefined();
    expect(await status(`${server.url}/admin/v1/apis`)).toBe(404);
    expect(await status(`${server.url}/admin/v1/openapi.json`)).toBe(404);
  });
});
