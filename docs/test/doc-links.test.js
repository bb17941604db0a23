import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { markdownFiles, ROOT } from '../../scripts/sync-doc-includes.mjs';

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown) {
  const outsideCode = markdown.replace(/^(`{3,})[^\n]*\n[\s\S]*?^\1$/gm, '');
  return new Set(
    [...outsideCode.matchAll(/^#{1,6} (.+)$/gm)].map((match) =>
      match[1]
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    ),
  );
}

describe('links in the docs', () => {
  for (const file of markdownFiles()) {
    const markdown = readFileSync(file, 'utf8');
    const prose = markdown.replace(/^(`{3,})[^\n]*\n[\s\S]*?^\1$/gm, '').replace(/`[^`\n]*`/g, '');
    const links = [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]).filter((target) => !/^[a-z]+:/.test(target));
    if (links.length === 0) continue;
    it(`${relative(ROOT, file)}: every relative link and #anchor resolves`, () => {
      for (const link of links) {
        const [path, anchor] = link.split('#');
        const target = path ? join(dirname(file), path) : file;
        expect(existsSync(target), `${link} → ${relative(ROOT, target)}`).toBe(true);
        if (anchor && target.endsWith('.md')) expect([...anchors(readFileSync(target, 'utf8'))], `${link}`).toContain(anchor);
      }
    });
  }
});
