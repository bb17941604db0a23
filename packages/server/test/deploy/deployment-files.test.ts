import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { serveCommand } from '../../src/cli/serve-command.js';
import { CONFIG_ENVIRONMENT } from '../../src/config/server-config.js';
import { startServer } from '../../src/http/start-server.js';

/**
 * Docker does not run where the tests run, so the Dockerfile and compose file are never built or
 * started here. These checks catch what can be caught without it: the files parse, the image has
 * the structure the deployment guide promises, the load balancer names the instances the compose
 * file defines, and the two shell/node one-liners in the image do what they say. Where haproxy is installed
 * (always in CI: .ci/run installs it), haproxy checks the configuration too.
 */
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const deploy = (path: string) => join(root, 'deploy', path);
const run = promisify(execFile);
/** haproxy and openssl present; where they are not, the check is skipped — unless CI requires it (M2M_AUTH_REQUIRE_TOOLCHAINS=1). */
function hasHaproxy(): boolean {
  const found = spawnSync('haproxy', ['-v']).status === 0 && spawnSync('openssl', ['version']).status === 0;
  if (!found && process.env.M2M_AUTH_REQUIRE_TOOLCHAINS === '1') throw new Error('haproxy and openssl are needed to check deploy/haproxy/haproxy.cfg (M2M_AUTH_REQUIRE_TOOLCHAINS=1: CI must install them)');
  return found;
}

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Dockerfile instructions by stage: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Stage[] {
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      const [, image = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ from: image, name, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

const dockerfile = parseDockerfile(readFileSync(deploy('Dockerfile'), 'utf8'));
const buildStage = dockerfile[0]!;
const runtime = dockerfile.at(-1)!;
const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const one = (stage: Stage, keyword: string) => {
  const found = all(stage, keyword);
  expect(found, `${keyword} in the ${stage.name} stage`).toHaveLength(1);
  return found[0]!.args;
};

describe('deploy/Dockerfile', () => {
  it('has a build stage and a runtime stage, both on node:20-bookworm-slim', () => {
    expect(dockerfile.map((stage) => [stage.from, stage.name])).toEqual([
      ['node:20-bookworm-slim', 'build'],
      ['node:20-bookworm-slim', 'runtime'],
    ]);
  });

  it('compiles better-sqlite3 from source and builds in the build stage', () => {
    const runs = all(buildStage, 'RUN').map((i) => i.args).join('\n');
    expect(runs).toMatch(/apt-get install[^\n]*\bpython3\b[^\n]*\bmake\b[^\n]*\bg\+\+/);
    expect(runs).toMatch(/\bnpm ci\b/);
    expect(all(buildStage, 'ENV').map((i) => i.args)).toContain('npm_config_build_from_source=true');
    expect(runs).toMatch(/npm rebuild better-sqlite3/);
    expect(runs).toMatch(/npm run build/);
    expect(runs).toMatch(/npm prune --omit=dev/);
  });

  it('copies into the build only files that exist, and ignores what must not be sent as context', () => {
    for (const copy of all(buildStage, 'COPY')) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) expect(existsSync(join(root, source)), `COPY ${source}`).toBe(true);
    }
    const ignored = readFileSync(deploy('Dockerfile.dockerignore'), 'utf8');
    expect(ignored).toMatch(/^\*\*\/node_modules$/m);
    expect(ignored).toMatch(/^\*\*\/dist$/m);
  });

  it('carries every workspace package the server runs on, into the build and into the image', () => {
    // The server's own @m2m-auth dependencies are workspace links in node_modules: a package left
    // out of either stage is a dangling link, and the image fails on its first import (or the build on its first compile).
    const manifest = JSON.parse(readFileSync(join(root, 'packages/server/package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const workspaces = Object.keys(manifest.dependencies)
      .filter((name) => name.startsWith('@m2m-auth/'))
      .map((name) => `packages/${name.slice('@m2m-auth/'.length)}`);
    expect(workspaces).toEqual(expect.arrayContaining(['packages/sdk-core', 'packages/client']));
    const built = all(buildStage, 'COPY').map((i) => i.args.split(/\s+/)[0]);
    const shipped = all(runtime, 'COPY').map((i) => i.args.split(/\s+/)[1]);
    for (const workspace of ['packages/server', ...workspaces]) {
      expect(built, `the build stage copies ${workspace}/package.json before npm ci`).toContain(`${workspace}/package.json`);
      expect(built, `the build stage copies ${workspace}'s sources`).toContain(workspace);
      expect(shipped, `the image carries ${workspace}/package.json`).toContain(`/app/${workspace}/package.json`);
      expect(shipped, `the image carries ${workspace}/dist`).toContain(`/app/${workspace}/dist`);
    }
  });

  it('runs as a non-root user with only what the build stage produced, no compilers', () => {
    const user = one(runtime, 'USER');
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(all(runtime, 'RUN').map((i) => i.args).join('\n')).not.toMatch(/apt-get|npm (ci|install)|g\+\+/);
    for (const copy of all(runtime, 'COPY')) expect(copy.args).toMatch(/^--from=build /);
    const copied = all(runtime, 'COPY').map((i) => i.args.split(/\s+/)[1]);
    expect(copied).toEqual(expect.arrayContaining(['/app/node_modules', '/app/packages/server/dist', '/app/packages/server/bin']));
    expect(copied.some((path) => /\/src$|\/test$/.test(path!))).toBe(false);
    // USER comes after the last RUN, so nothing at run time is done as root.
    const order = runtime.instructions.map((i) => i.keyword);
    expect(order.lastIndexOf('RUN')).toBeLessThan(order.indexOf('USER'));
  });

  it('exposes the port, serves on every interface, and names the command the guide documents', () => {
    expect(one(runtime, 'EXPOSE')).toBe('8080');
    expect(one(runtime, 'WORKDIR')).toBe('/app');
    expect(JSON.parse(one(runtime, 'CMD'))).toEqual(['serve', '--host', '0.0.0.0']);
    expect(existsSync(join(root, 'packages/server/bin/m2m-auth.js'))).toBe(true);
  });

  describe('HEALTHCHECK', () => {
    let server: Server;
    let healthzStatus = 200;
    beforeAll(async () => {
      server = createServer((req, res) => res.writeHead(req.url === '/healthz' ? healthzStatus : 404).end());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const healthcheck = () => {
      const args = one(runtime, 'HEALTHCHECK');
      const [, command = ''] = /\bCMD\s+(\[.*\])$/.exec(args) ?? [];
      return JSON.parse(command) as string[];
    };
    const probe = (port: number) =>
      run(healthcheck()[0] === 'node' ? process.execPath : healthcheck()[0]!, healthcheck().slice(1), { env: { ...process.env, M2M_AUTH_PORT: String(port) } }).then(
        () => 0,
        (error: { code?: number }) => error.code ?? -1,
      );

    it('asks /healthz with node (no curl in the slim image) and passes only on a 2xx', async () => {
      expect(healthcheck()[0]).toBe('node');
      expect(healthcheck().join(' ')).toMatch(/fetch\(.*\/healthz/);
      const port = (server.address() as AddressInfo).port;
      healthzStatus = 200;
      expect(await probe(port)).toBe(0);
      healthzStatus = 503;
      expect(await probe(port)).toBe(1);
    });

    it('fails when nothing answers', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      expect(await probe(port)).toBe(1);
    });
  });

  describe('ENTRYPOINT: the CLI, run from /app (here: this repository, where the same relative path leads to it)', () => {
    const entrypoint = () => JSON.parse(one(runtime, 'ENTRYPOINT')) as string[];
    const { M2M_AUTH_ISSUER: _ignored, ...withoutIssuer } = process.env;
    const container = (args: string[], env: NodeJS.ProcessEnv = withoutIssuer) =>
      run('/bin/sh', [...entrypoint().slice(1), ...args], { cwd: root, env, timeout: 30_000 }).catch(
        (error: { code: number; stdout: string; stderr: string }) => error,
      );

    it('is a POSIX shell line', () => {
      expect(entrypoint().slice(0, 2)).toEqual(['/bin/sh', '-c']);
    });

    it('refuses to serve without M2M_AUTH_ISSUER, naming it', async () => {
      const refused = await container(['serve', '--help']);
      expect(refused).toMatchObject({ code: expect.any(Number), stderr: expect.stringMatching(/M2M_AUTH_ISSUER/) });
      expect((refused as { code: number }).code).not.toBe(0);
    });

    it('serves with it (here: serve --help, which the CLI answers)', async () => {
      const started = await container(['serve', '--help'], { ...withoutIssuer, M2M_AUTH_ISSUER: 'https://auth.example.com' });
      expect(started.stdout).toMatch(/^Usage: m2m-auth serve/);
    });

    it('runs every other command without an issuer', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-entrypoint-'));
      try {
        await container(['init', '--data-dir', dataDir]);
        const listed = await container(['apis', 'list', '--data-dir', dataDir, '--json']);
        expect(JSON.parse(listed.stdout)).toEqual([]);
        expect((await container(['--help'])).stdout).toMatch(/^Usage: m2m-auth /);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
});

describe('deploy/docker-compose.yml and the load balancer', () => {
  const compose = parse(readFileSync(deploy('docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<
      string,
      { image?: string; build?: { context: string; dockerfile: string }; environment?: Record<string, string>; expose?: string[]; ports?: string[]; volumes?: string[] }
    >;
  };
  const instances = Object.keys(compose.services).filter((name) => /^m2m-auth-\d+$/.test(name));

  it('is the reference topology: PostgreSQL, Redis, a load balancer and three m2m-auth instances', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['postgres', 'redis', 'load-balancer']));
    expect(instances).toEqual(['m2m-auth-1', 'm2m-auth-2', 'm2m-auth-3']);
  });

  it('configures every instance alike: the image built from deploy/Dockerfile, the database, Redis, issuer and master key from the environment', () => {
    for (const name of instances) {
      const service = compose.services[name]!;
      expect(service.build).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile' });
      expect(service.environment?.M2M_AUTH_DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
      expect(service.environment?.M2M_AUTH_REDIS_URL).toBe('redis://redis:6379');
      expect(service.environment?.M2M_AUTH_ISSUER).toMatch(/^\$\{M2M_AUTH_ISSUER/);
      // A secret comes from the environment of `docker compose`, never written in the file.
      expect(service.environment?.M2M_AUTH_MASTER_KEY).toMatch(/^\$\{M2M_AUTH_MASTER_KEY:\?/);
      expect(service.expose).toEqual(['8080', '8081']);
      // The admin API on a listener of its own, so the main listener does not serve it.
      expect([service.environment?.M2M_AUTH_ADMIN_HOST, service.environment?.M2M_AUTH_ADMIN_PORT]).toEqual(['0.0.0.0', '8081']);
      expect(service.environment?.M2M_AUTH_ADMIN_API).toBeUndefined();
    }
  });

  it('publishes the public frontend, and the admin frontend on the host’s loopback only', () => {
    expect(compose.services['load-balancer']!.ports).toEqual(['8443:8443', '127.0.0.1:9443:9443']);
  });

  const haproxyConfig = () => {
    const volume = compose.services['load-balancer']!.volumes!.find((v) => v.includes('haproxy.cfg'))!;
    return readFileSync(deploy(volume.split(':')[0]!), 'utf8');
  };
  const section = (config: string, header: string) => new RegExp(`^${header}\\n((?:[ \\t]+.*\\n?|\\n(?=[ \\t]))*)`, 'm').exec(config)?.[1] ?? '';
  const serversOf = (backend: string) => [...backend.matchAll(/^\s*server\s+(\S+)\s+(\S+)/gm)].map((match) => [match[1], match[2]]);

  it('has the load balancer route to exactly the compose instances, on the port they expose, when /readyz answers', () => {
    const backend = section(haproxyConfig(), 'backend m2m_auth');
    expect(serversOf(backend)).toEqual(instances.map((name) => [name, `${name}:8080`]));
    expect(backend).toMatch(/^\s*option httpchk GET \/readyz$/m);
    expect(backend).toMatch(/^\s*default-server check\b/m);
  });

  it('routes the admin API only through an internal frontend, to the instances’ admin listeners, ready per their main port', () => {
    const config = haproxyConfig();
    const publicFrontend = section(config, 'frontend https');
    const adminFrontend = section(config, 'frontend admin');
    expect(publicFrontend).toMatch(/^\s*bind :8443 /m);
    expect(publicFrontend).toMatch(/^\s*default_backend m2m_auth$/m);
    expect(publicFrontend).not.toMatch(/m2m_auth_admin/);
    expect(adminFrontend).toMatch(/^\s*bind :9443 /m);
    expect(adminFrontend).toMatch(/^\s*default_backend m2m_auth_admin$/m);
    const adminBackend = section(config, 'backend m2m_auth_admin');
    expect(serversOf(adminBackend)).toEqual(instances.map((name) => [name, `${name}:${compose.services[name]!.environment!.M2M_AUTH_ADMIN_PORT}`]));
    expect(adminBackend).toMatch(/^\s*option httpchk GET \/readyz$/m);
    expect(adminBackend).toMatch(/^\s*default-server check port 8080\b/m);
  });

  it.runIf(hasHaproxy())('is a configuration haproxy accepts (haproxy -c; skipped where haproxy is not installed, required in CI)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'm2m-auth-haproxy-'));
    try {
      // Any certificate will do for a syntax check: a throwaway self-signed one.
      await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')]);
      writeFileSync(join(dir, 'tls.pem'), readFileSync(join(dir, 'tls.crt'), 'utf8') + readFileSync(join(dir, 'tls.key'), 'utf8'));
      const config = readFileSync(deploy('haproxy/haproxy.cfg'), 'utf8').replaceAll('/usr/local/etc/haproxy/certs/tls.pem', join(dir, 'tls.pem'));
      writeFileSync(join(dir, 'haproxy.cfg'), config);
      const { stdout } = await run('haproxy', ['-c', '-f', join(dir, 'haproxy.cfg')]);
      expect(stdout).toMatch(/Configuration file is valid/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The load balancer's routing, run: HAProxy started from deploy/haproxy/haproxy.cfg — only the
 * addresses changed (loopback ports instead of Docker's DNS names) — in front of two stand-ins for
 * an instance's listeners, the main one (8080) and the admin one (8081), each answering with its
 * name and the path it was asked.
 */
describe.runIf(hasHaproxy())('the load balancer, run in front of stand-in instances', () => {
  let dir: string;
  let haproxy: ReturnType<typeof spawn> | undefined;
  const stand = (name: string) =>
    createServer((req, res) => {
      if (name === 'main' && req.url === '/readyz') return res.writeHead(200).end();
      reached.push(`${name} ${req.url}`);
      res.writeHead(200).end(`${name} ${req.url}`);
    });
  const reached: string[] = [];
  const main = stand('main');
  const admin = stand('admin');
  const ports = { public: 0, admin: 0 };

  const listenOn = async (server: Server, port = 0) => {
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };
  const freePort = async () => {
    const probe = createServer();
    const port = await listenOn(probe);
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    return port;
  };
  /** GET over TLS (the throwaway certificate is self-signed, so it is not verified: routing is what is tested). */
  const get = (port: number, path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpsRequest({ host: '127.0.0.1', port, path, method: 'GET', rejectUnauthorized: false }, (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('error', reject);
      request.end();
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'm2m-auth-haproxy-run-'));
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')]);
    writeFileSync(join(dir, 'tls.pem'), readFileSync(join(dir, 'tls.crt'), 'utf8') + readFileSync(join(dir, 'tls.key'), 'utf8'));
    const [mainPort, adminPort] = [await listenOn(main), await listenOn(admin)];
    [ports.public, ports.admin] = [await freePort(), await freePort()];
    const config = readFileSync(deploy('haproxy/haproxy.cfg'), 'utf8')
      .replaceAll('/usr/local/etc/haproxy/certs/tls.pem', join(dir, 'tls.pem'))
      .replace(/^resolvers docker\n(?:[ \t]+.*\n)*/m, '')
      .replaceAll(' resolvers docker init-addr last,libc,none', '')
      .replace('bind :8443 ', `bind 127.0.0.1:${ports.public} `)
      .replace('bind :9443 ', `bind 127.0.0.1:${ports.admin} `)
      .replace(/(server m2m-auth-\d+ )m2m-auth-\d+:8080/g, `$1127.0.0.1:${mainPort}`)
      .replace(/(server m2m-auth-\d+ )m2m-auth-\d+:8081/g, `$1127.0.0.1:${adminPort}`)
      .replaceAll('check port 8080', `check port ${mainPort}`);
    writeFileSync(join(dir, 'haproxy.cfg'), config);
    haproxy = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'ignore' });
    // Until the public frontend reaches a healthy instance (bounded by the hook's timeout).
    for (;;) {
      const answer = await get(ports.public, '/.well-known/jwks.json').catch(() => undefined);
      if (answer?.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    reached.length = 0;
  }, 30_000);

  afterAll(async () => {
    if (haproxy && haproxy.exitCode === null) {
      const exited = new Promise((resolve) => haproxy!.once('exit', resolve));
      haproxy.kill('SIGTERM');
      await exited;
    }
    await Promise.all([main, admin].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    rmSync(dir, { recursive: true, force: true });
  });

  it('the public frontend passes the OAuth endpoints to the main listener', async () => {
    for (const path of ['/oauth/token', '/.well-known/jwks.json', '/.well-known/oauth-authorization-server', '/readyz']) {
      const answer = await get(ports.public, path);
      expect([answer.status, answer.body], path).toEqual([200, path === '/readyz' ? '' : `main ${path}`]);
    }
  });

  it('the public frontend refuses /admin, /console and /metrics however they are spelled, and none reaches an instance', async () => {
    reached.length = 0;
    const paths = ['/admin/v1/apis', '/admin', '/admin/', '/%61dmin/v1/apis', '//admin/v1/apis', '/ADMIN/v1/clients', '/console', '/console/', '/metrics'];
    for (const path of paths) expect((await get(ports.public, path)).status, path).toBe(404);
    expect(reached).toEqual([]);
  });

  it('the admin frontend passes the admin API, the console and its sign-in to the admin listener, and nothing else', async () => {
    for (const path of ['/admin/v1/apis', '/console', '/console/assets/index-3f9a1c.js', '/oauth/token', '/oauth/revoke'])
      expect(await get(ports.admin, path), path).toEqual({ status: 200, body: `admin ${path}` });
    reached.length = 0;
    for (const path of ['/oauth/introspect', '/oauth/token/x', '/.well-known/jwks.json', '/metrics', '/', '/consoles'])
      expect((await get(ports.admin, path)).status, path).toBe(404);
    expect(reached).toEqual([]);
  });
});

describe('what the operator guides promise about configuration and backups', () => {
  const doc = (name: string) => readFileSync(join(root, 'docs', name), 'utf8');
  const serve = serveCommand();

  it('serve --help names the environment variable of every option', () => {
    for (const option of serve.options) {
      const key = option.attributeName();
      if (key === 'config') expect(option.envVar, option.flags).toBe('M2M_AUTH_CONFIG');
      else expect(option.description, option.flags).toContain(CONFIG_ENVIRONMENT[key as keyof typeof CONFIG_ENVIRONMENT] ?? `(no config key ${key})`);
    }
  });

  it('every config-file key is a serve option, and docs/configuration.md gives its flag and environment variable in one row', () => {
    const rows = doc('configuration.md')
      .split('\n')
      .filter((line) => line.startsWith('| `'));
    for (const [key, variable] of Object.entries(CONFIG_ENVIRONMENT)) {
      const flags = serve.options.filter((option) => option.attributeName() === key).map((option) => option.long!);
      expect(flags, key).not.toEqual([]);
      const row = rows.find((line) => line.startsWith(`| \`${key}\` |`));
      expect(row, key).toBeDefined();
      for (const flag of flags) expect(row, key).toContain(`\`${flag}\``);
      expect(row, key).toContain(`\`${variable}\``);
    }
  });

  it('docs/production.md backs up every file a data directory holds (their -wal/-shm companions aside)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-datadir-'));
    const redisUrl = process.env.M2M_AUTH_REDIS_URL;
    delete process.env.M2M_AUTH_REDIS_URL; // the files of a single host: SQLite for both stores
    try {
      const server = await startServer({ storage: 'sqlite', dataDir, port: 0, logger: 'silent' });
      const files = new Set(readdirSync(dataDir).map((file) => file.replace(/-(wal|shm)$/, '')));
      await server.close();
      expect([...files].sort()).toEqual(['m2m-auth.db', 'master.key', 'state.db']);
      const backups = /^## 3\. Backups\n([\s\S]*?)^## /m.exec(doc('production.md'))?.[1] ?? '';
      for (const file of files) expect(backups, file).toMatch(new RegExp(`\\| \`${file.replace('.', '\\.')}\` \\|`));
      for (const file of [...files].filter((name) => name.endsWith('.db'))) expect(backups, file).toContain(`sqlite3 m2m-auth-data/${file} ".backup`);
    } finally {
      if (redisUrl !== undefined) process.env.M2M_AUTH_REDIS_URL = redisUrl;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
