import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../scripts/sync-doc-includes.mjs';

const manifests = ['package.json', 'bench/package.json', ...['sdk-core', 'client', 'resource-server', 'server'].map((name) => `packages/${name}/package.json`)];
const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');

describe('the license', () => {
  it('LICENSE at the root is the Apache License 2.0', () => {
    expect(license).toMatch(/^ +Apache License\n +Version 2\.0, January 2004\n +http:\/\/www\.apache\.org\/licenses\/\n/);
    expect(license).toContain('END OF TERMS AND CONDITIONS');
    expect(license).toContain('9. Accepting Warranty or Additional Liability.');
  });

  for (const manifest of manifests) {
    it(`${manifest} says Apache-2.0`, () => {
      expect(JSON.parse(readFileSync(join(ROOT, manifest), 'utf8')).license).toBe('Apache-2.0');
    });
  }

  // npm puts a package's own LICENSE into its tarball, never the repository's.
  for (const name of ['sdk-core', 'client', 'resource-server', 'server']) {
    it(`packages/${name}/LICENSE is the root LICENSE, for its tarball`, () => {
      expect(readFileSync(join(ROOT, 'packages', name, 'LICENSE'), 'utf8')).toBe(license);
    });
  }
});
