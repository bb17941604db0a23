import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

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
    expect(JSON.parse(one(runtime, 'CMD'))).toEqual(['node', 'packages/server/bin/m2m-auth.js', 'serve', '--host', '0.0.0.0']);
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

  it('refuses to start without M2M_AUTH_ISSUER (the ENTRYPOINT), and runs the command with it', async () => {
    const entrypoint = JSON.parse(one(runtime, 'ENTRYPOINT')) as string[];
    expect(entrypoint.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    const { M2M_AUTH_ISSUER: _ignored, ...env } = process.env;
    const without = await run('/bin/sh', [...entrypoint.slice(1), 'echo', 'started'], { env }).catch((error: { code: number; stderr: string }) => error);
    expect(without).toMatchObject({ code: expect.any(Number), stderr: expect.stringMatching(/M2M_AUTH_ISSUER/) });
    expect((without as { code: number }).code).not.toBe(0);
    const withIssuer = await run('/bin/sh', [...entrypoint.slice(1), 'echo', 'started'], { env: { ...env, M2M_AUTH_ISSUER: 'https://auth.example.com' } });
    expect(withIssuer.stdout).toBe('started\n');
  });
});

describe('deploy/docker-compose.yml and the load balancer', () => {
  const compose = parse(readFileSync(deploy('docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { image?: string; build?: { context: string; dockerfile: string }; environment?: Record<string, string>; expose?: string[]; volumes?: string[] }>;
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
      expect(service.expose).toEqual(['8080']);
    }
  });

  it('has the load balancer route to exactly the compose instances, on the port they expose, when /readyz answers', () => {
    const volume = compose.services['load-balancer']!.volumes!.find((v) => v.includes('haproxy.cfg'))!;
    const config = readFileSync(deploy(volume.split(':')[0]!), 'utf8');
    const backend = /^backend m2m_auth\n((?:[ \t]+.*\n?)*)/m.exec(config)?.[1] ?? '';
    const servers = [...backend.matchAll(/^\s*server\s+(\S+)\s+(\S+)/gm)].map((match) => [match[1], match[2]]);
    expect(servers).toEqual(instances.map((name) => [name, `${name}:8080`]));
    expect(backend).toMatch(/^\s*option httpchk GET \/readyz$/m);
    expect(backend).toMatch(/^\s*default-server check\b/m);
  });

  it.runIf(hasHaproxy())('is a configuration haproxy accepts (haproxy -c; skipped where haproxy is not installed, required in CI)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'm2m-auth-haproxy-'));
    try {
      // Any certificate will do for a syntax check: a throwaway self-signed one.
      await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')]);
      writeFileSync(join(dir, 'tls.pem'), readFileSync(join(dir, 'tls.crt'), 'utf8') + readFileSync(join(dir, 'tls.key'), 'utf8'));
      const config = readFileSync(deploy('haproxy/haproxy.cfg'), 'utf8').replace('/usr/local/etc/haproxy/certs/tls.pem', join(dir, 'tls.pem'));
      writeFileSync(join(dir, 'haproxy.cfg'), config);
      const { stdout } = await run('haproxy', ['-c', '-f', join(dir, 'haproxy.cfg')]);
      expect(stdout).toMatch(/Configuration file is valid/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
