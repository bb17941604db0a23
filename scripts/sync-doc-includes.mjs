#!/usr/bin/env node
// Code in the docs is the code CI runs: a fenced block right after `<!-- include: <path> -->`
// holds that file verbatim. `npm run docs:includes` refreshes every such block from its file;
// docs/test/doc-includes.test.js fails when one differs.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const INCLUDE = /<!-- include: (\S+) -->\n(`{3,})([\w-]*)\n(?:[\s\S]*?\n)??\2\n/g;

/** Every Markdown file under docs/ and examples/, and the README. */
export function markdownFiles() {
  const walk = (dir) =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? (entry.name === 'node_modules' ? [] : walk(join(dir, entry.name))) : entry.name.endsWith('.md') ? [join(dir, entry.name)] : [],
    );
  return [join(ROOT, 'README.md'), ...walk(join(ROOT, 'docs')), ...walk(join(ROOT, 'examples'))];
}

/** The Markdown with each included block replaced by its file's current content, and the paths included. */
export function syncIncludes(markdown) {
  const paths = [];
  const synced = markdown.replace(INCLUDE, (_block, path, fence, lang) => {
    paths.push(path);
    const content = readFileSync(join(ROOT, path), 'utf8');
    return `<!-- include: ${path} -->\n${fence}${lang}\n${content.endsWith('\n') ? content : `${content}\n`}${fence}\n`;
  });
  return { synced, paths };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const file of markdownFiles()) {
    const markdown = readFileSync(file, 'utf8');
    const { synced, paths } = syncIncludes(markdown);
    const markers = markdown.match(/<!-- include: \S+ -->/g)?.length ?? 0;
    if (paths.length !== markers) throw new Error(`${relative(ROOT, file)}: ${markers} include markers, but ${paths.length} are followed by a fenced block`);
    if (synced !== markdown) writeFileSync(file, synced);
    if (paths.length) process.stdout.write(`${relative(ROOT, file)}: ${paths.join(', ')}${synced !== markdown ? ' (updated)' : ''}\n`);
  }
}
