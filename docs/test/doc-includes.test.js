import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { markdownFiles, ROOT, syncIncludes } from '../../scripts/sync-doc-includes.mjs';

const files = markdownFiles().filter((file) => readFileSync(file, 'utf8').includes('<!-- include: '));

describe('code in the docs is the tested example code', () => {
  it('finds the guides that include example files', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const file of files) {
    it(`${relative(ROOT, file)}: every included block equals its file (npm run docs:includes refreshes them)`, () => {
      const markdown = readFileSync(file, 'utf8');
      const markers = markdown.match(/<!-- include: \S+ -->/g) ?? [];
      const { synced, paths } = syncIncludes(markdown);
      expect(paths).toHaveLength(markers.length); // each marker is followed by a fenced block
      for (const path of paths) expect(existsSync(join(ROOT, path)), path).toBe(true);
      expect(markdown).toBe(synced);
    });
  }
});
