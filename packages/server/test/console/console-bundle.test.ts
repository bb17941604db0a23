import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/**
 * The console as built into the server package (npm run build, which npm test runs first): what
 * the browser downloads stays small, and nothing in it needs the CSP to allow inline code.
 */
const DIST = fileURLToPath(new URL('../../dist/console/', import.meta.url));
/** The budget for the shipped JavaScript, gzipped. */
const JS_BUDGET_BYTES = 250 * 1024;

function builtFiles(): string[] {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`no console build at ${DIST}: run npm run build first`);
  return readdirSync(DIST, { recursive: true, encoding: 'utf8' }).filter((path) => statSync(join(DIST, path)).isFile());
}
const files = builtFiles();
const read = (path: string) => readFileSync(join(DIST, path), 'utf8');
const html = read('index.html');

describe('the built console', () => {
  it('ships under 250 KB of JavaScript, gzipped, counting every chunk (the lazily loaded ones too)', () => {
    const scripts = files.filter((path) => path.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    const gzipped = scripts.reduce((sum, path) => sum + gzipSync(readFileSync(join(DIST, path)), { level: 9 }).length, 0);
    expect(gzipped).toBeLessThan(JS_BUDGET_BYTES);
  });

  it('has no inline script, inline style, style attribute or event-handler attribute in index.html', () => {
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\bsrc="\/console\/assets\/[\w.-]+\.js"/);
      expect(body!.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).toMatch(/<link rel="stylesheet"[^>]* href="\/console\/assets\/[\w.-]+\.css"/);
  });

  // That nothing is fetched from elsewhere at run time is checked in the browser (console-journey.test.ts).
  it('loads everything from /console/ itself: no data: URL, no source map', () => {
    const references = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    for (const reference of references) {
      expect(reference).toMatch(/^\/console\//);
      expect(files).toContain(reference.replace(/^\/console\//, ''));
    }
    for (const path of files.filter((name) => /\.(js|css)$/.test(name))) {
      const text = read(path);
      expect(text, path).not.toMatch(/\bdata:(?!,)[a-z]+\/[a-z+.-]+[;,]/i);
      expect(text, path).not.toContain('sourceMappingURL');
    }
    expect(files.filter((path) => path.endsWith('.map'))).toEqual([]);
  });

  it('names its assets by content hash, so a new release is never served from a stale cache', () => {
    for (const path of files.filter((name) => /\.(js|css)$/.test(name))) expect(path).toMatch(/^assets\/[\w-]+-[\w-]{8}\.(js|css)$/);
  });
});
