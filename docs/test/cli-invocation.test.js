import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { markdownFiles, ROOT } from '../../scripts/sync-doc-includes.mjs';

/** What a reader copies: every guide, the package READMEs, and the examples that print commands. */
const files = [
  ...markdownFiles(),
  ...readdirSync(join(ROOT, 'packages')).map((name) => join(ROOT, 'packages', name, 'README.md')),
  ...readdirSync(join(ROOT, 'examples/demo'))
    .filter((name) => name.endsWith('.mjs'))
    .map((name) => join(ROOT, 'examples/demo', name)),
];

describe('how the docs run the CLI', () => {
  // Where m2m-auth is not installed in the current project, `npx m2m-auth` fetches and runs the
  // public registry's package of that name — not ours (@m2m-auth/server) — without asking in CI.
  it('never with a bare `npx m2m-auth` (npx --no-install, node_modules/.bin or npm exec instead)', () => {
    const bare = files.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, index) => ({ line, where: `${relative(ROOT, file)}:${index + 1}` }))
        .filter(({ line }) => /(?<!a bare `)\bnpx (?:-y |--yes )?m2m-auth\b/.test(line)) // prose warning against it says "a bare `npx m2m-auth`"
        .map(({ where }) => where),
    );
    expect(bare).toEqual([]);
  });
});
