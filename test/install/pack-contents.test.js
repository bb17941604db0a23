import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PUBLISHED, packPackages, requireBuiltPackages } from '../../scripts/pack-packages.mjs';

/**
 * What `npm run pack` would put into each tarball (`npm pack --dry-run --json` over the current
 * dist/, which `npm test` builds first): the code and its types, nothing of the build's caches, the
 * source maps of sources that are not shipped, or the tests.
 */
let packed;
beforeAll(() => {
  requireBuiltPackages();
  const scratch = mkdtempSync(join(tmpdir(), 'm2m-auth-pack-'));
  try {
    packed = new Map(packPackages(scratch, { dryRun: true }).map((entry) => [entry.name, entry]));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}, 60_000);

/** Every file a manifest names as an entry point: main, types, bin and each export condition. */
function entryPoints(manifest) {
  const targets = [manifest.main, manifest.types, ...Object.values(manifest.bin ?? {})];
  const walk = (value) => (typeof value === 'string' ? targets.push(value) : Object.values(value ?? {}).forEach(walk));
  walk(manifest.exports);
  return targets.filter(Boolean).map((target) => target.replace(/^\.\//, ''));
}

describe.each(PUBLISHED)('the $name tarball', ({ name, dir }) => {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const files = () => packed.get(name).files;

  it('carries no build cache, source map or test', () => {
    expect(files().filter((path) => /tsbuildinfo$|\.map$|(^|\/)tests?\/|\.(test|spec)\.[cm]?[jt]s$/.test(path))).toEqual([]);
  });

  it('carries every file its manifest points to, its README and its LICENSE', () => {
    expect(files()).toEqual(expect.arrayContaining([...entryPoints(manifest), 'package.json', 'README.md', 'LICENSE']));
  });

  it('names its license', () => {
    expect(manifest.license).toBe('Apache-2.0');
  });

  it('depends on the other packages at exactly their versions, so tarballs installed together satisfy each other', () => {
    for (const [dependency, range] of Object.entries(manifest.dependencies ?? {})) {
      const sibling = PUBLISHED.find((candidate) => candidate.name === dependency);
      if (sibling) expect(range, dependency).toBe(JSON.parse(readFileSync(join(sibling.dir, 'package.json'), 'utf8')).version);
    }
  });
});

describe('the server tarball', () => {
  it('carries the built console (served at /console) without its sources', () => {
    const files = packed.get('@m2m-auth/server').files;
    expect(files).toContain('dist/console/index.html');
    expect(files.filter((path) => /^dist\/console\/assets\/[\w-]+\.js$/.test(path)).length).toBeGreaterThan(0);
    expect(files.filter((path) => path.startsWith('console/'))).toEqual([]);
  });
});
