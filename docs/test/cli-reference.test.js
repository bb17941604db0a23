import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { buildCli } from '../../packages/server/src/cli/main.ts';
import { CLI_DOC, renderCliReference } from '../../scripts/generate-cli-docs.mjs';

describe('docs/cli.md', () => {
  it('is what `npm run docs:cli` generates from the CLI definitions now (run it after changing a command)', () => {
    expect(readFileSync(CLI_DOC, 'utf8')).toBe(renderCliReference(buildCli()));
  });

  it('documents every command and option the CLI has', () => {
    const markdown = renderCliReference(buildCli());
    const walk = (command, path) =>
      command.commands.forEach((sub) => {
        const name = `${path} ${sub.name()}`;
        expect(markdown).toContain(`# ${name}\n`);
        for (const option of sub.options) expect(markdown).toContain(`\`${option.flags}\``);
        walk(sub, name);
      });
    walk(buildCli(), 'm2m-auth');
  });
});
