import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/http/start-server.js';
import { createRemoteAdmin } from '../../src/remote/remote-admin.js';

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

  it('on its own listener the remote CLI needs no other token endpoint: the listener issues admin tokens itself', async () => {
    server = await startServer({ storage: 'memory', port: 0, logger: 'silent', adminApi: { host: '127.0.0.1', port: 0 } });
    const boot = await server.admin.bootstrapAdminClient();
    const remote = createRemoteAdmin({ server: server.adminUrl!.replace(/\/admin\/v1$/, ''), clientId: boot.clientId, clientSecret: boot.clientSecret });
    try {
      const overview = await remote.readOverview();
      expect(overview.busiestClients).toEqual([{ clientId: boot.clientId, name: 'm2m-auth-admin', issued: 1 }]);
      expect(overview.health.database.ok).toBe(true);
      expect(await remote.inspectToken('not-a-token')).toMatchObject({ format: 'unknown', active: false });
    } finally {
      remote.close();
    }
  });

  it('off with adminApi: false', async () => {
    server = await startServer({ storage: 'memory', port: 0, logger: 'silent', adminApi: false });
    expect(server.adminUrl).toBeUndefined();
    expect(await status(`${server.url}/admin/v1/apis`)).toBe(404);
    expect(await status(`${server.url}/admin/v1/openapi.json`)).toBe(404);
  });
});
