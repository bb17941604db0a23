#!/usr/bin/env node
// `npm run pack [-- <directory>]`: the four published packages as npm tarballs (default
// dist-packages/), for installing the CLI on another host or the SDKs into another project before
// they are on a registry (docs/install.md). It rebuilds from scratch first: `tsc -b` never deletes
// the output of a source file that was removed or renamed, and a tarball must not carry it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The published packages, dependencies first. */
export const PUBLISHED = ['sdk-core', 'client', 'resource-server', 'server'].map((name) => ({ name: `@m2m-auth/${name}`, dir: join(ROOT, 'packages', name) }));

/** For the tests that use the built packages (npm test builds first): a clear error when one is not built. */
export function requireBuiltPackages() {
  const unbuilt = PUBLISHED.filter(({ dir }) => !existsSync(join(dir, 'dist')));
  if (unbuilt.length) throw new Error(`no dist/ in ${unbuilt.map(({ name }) => name).join(', ')}: run npm run build first`);
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** `npm pack --json` of every published package from its current dist/; returns the tarballs' paths. */
export function packPackages(destination, { dryRun = false } = {}) {
  mkdirSync(destination, { recursive: true });
  const workspaces = PUBLISHED.flatMap(({ dir }) => ['--workspace', relative(ROOT, dir)]);
  const args = ['pack', '--json', '--pack-destination', destination, ...workspaces, ...(dryRun ? ['--dry-run'] : [])];
  const packed = JSON.parse(execFileSync(npm, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
  return packed.map((entry) => ({
    name: entry.name,
    version: entry.version,
    files: entry.files.map((file) => file.path),
    tarball: join(destination, entry.filename),
  }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const destination = resolve(process.argv[2] ?? join(ROOT, 'dist-packages'));
  for (const { dir } of PUBLISHED) rmSync(join(dir, 'dist'), { recursive: true, force: true });
  execFileSync(npm, ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  for (const { name, tarball } of packPackages(destination)) process.stdout.write(`${name}: ${relative(process.cwd(), tarball)}\n`);
}
