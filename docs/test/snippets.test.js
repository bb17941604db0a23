import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { markdownFiles, ROOT } from '../../scripts/sync-doc-includes.mjs';
import { requireBuiltPackages } from '../../scripts/pack-packages.mjs';

/**
 * Every TypeScript and JavaScript block of the guides and READMEs, checked the way a reader would
 * use it, in a scratch project whose node_modules is this repository's (so `@m2m-auth/*` resolve to
 * the built workspace packages, as they would to the installed tarballs — npm test builds first):
 *
 * - ```ts blocks compile with `strict` (NodeNext modules, like a consumer's project);
 * - ```js / ```mjs blocks parse (node --check), and run as ES modules, each on its own, and must
 *   exit 0 — unless the line before the fence says why it cannot run alone:
 *   `<!-- snippet: not standalone — needs a running server -->`. Those are skipped, with the reason
 *   in the test's title and a count on stderr.
 */
const SNIPPET = /^(`{3,})(ts|typescript|js|javascript|mjs)\n([\s\S]*?)^\1$/gm;
const NOT_STANDALONE = /<!-- snippet: not standalone — (.+?) -->\s*$/;

function collectSnippets() {
  const files = [...markdownFiles(), ...readdirSync(join(ROOT, 'packages')).map((name) => join(ROOT, 'packages', name, 'README.md'))].filter(existsSync);
  return files.flatMap((file) => {
    const markdown = readFileSync(file, 'utf8');
    return [...markdown.matchAll(SNIPPET)].map((match) => {
      const before = markdown.slice(0, match.index);
      const previousLine = before.trimEnd().split('\n').at(-1) ?? '';
      const line = before.split('\n').length + 1; // the first line of code
      return {
        where: `${relative(ROOT, file)}:${line}`,
        line,
        kind: match[2].startsWith('t') ? 'ts' : 'js',
        code: match[3],
        skipReason: NOT_STANDALONE.exec(previousLine)?.[1],
      };
    });
  });
}

const snippets = collectSnippets();
const typescript = snippets.filter((snippet) => snippet.kind === 'ts');
const javascript = snippets.filter((snippet) => snippet.kind === 'js');
const skipped = snippets.filter((snippet) => snippet.skipReason);
process.stderr.write(
  `[snippets] ${typescript.length} TypeScript compiled, ${javascript.length} JavaScript parsed, ${javascript.length - skipped.length} of them run; ` +
    `${skipped.length} not run alone:\n${skipped.map((snippet) => `  ${snippet.where}: ${snippet.skipReason}\n`).join('')}`,
);

let scratch;
let compileErrors;

beforeAll(() => {
  requireBuiltPackages();
  scratch = mkdtempSync(join(tmpdir(), 'm2m-auth-snippets-'));
  symlinkSync(join(ROOT, 'node_modules'), join(scratch, 'node_modules'), 'dir');
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  snippets.forEach((snippet, index) => {
    snippet.file = join(scratch, `snippet-${index}.${snippet.kind === 'ts' ? 'ts' : 'mjs'}`);
    // `export {}` makes each file a module of its own, as a reader's file would be.
    writeFileSync(snippet.file, snippet.kind === 'ts' ? `${snippet.code}export {};\n` : snippet.code);
  });
  const tsconfig = {
    compilerOptions: {
      strict: true,
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2023'],
      types: ['node'],
      noEmit: true,
      skipLibCheck: true,
    },
    files: typescript.map((snippet) => snippet.file),
  };
  writeFileSync(join(scratch, 'tsconfig.json'), JSON.stringify(tsconfig));
  compileErrors = new Map(typescript.map((snippet) => [snippet.file, []]));
  if (typescript.length === 0) return;
  let output = '';
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', scratch], { cwd: scratch, encoding: 'utf8', timeout: 120_000 });
  } catch (error) {
    output = `${error.stdout ?? ''}${error.stderr ?? ''}`;
    if (!output) throw error;
  }
  // tsc reports `snippet-3.ts(5,10): error TS…`: back to the Markdown file and line.
  for (const [, name, row, rest] of output.matchAll(/^(snippet-\d+\.ts)\((\d+),\d+\): (.+)$/gm)) {
    const snippet = typescript.find((candidate) => candidate.file.endsWith(`/${name}`));
    compileErrors.get(snippet.file).push(`line ${snippet.line + Number(row) - 1}: ${rest}`);
  }
  const unattributed = output.split('\n').filter((line) => line.trim() && !/^(snippet-\d+\.ts\(|\s)/.test(line));
  if (unattributed.length) throw new Error(`tsc:\n${unattributed.join('\n')}`);
}, 150_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('TypeScript in the docs compiles under strict', () => {
  it('finds some', () => expect(typescript.length).toBeGreaterThan(0));
  for (const snippet of typescript) {
    if (snippet.skipReason) it.skip(`${snippet.where} (not compiled: ${snippet.skipReason})`, () => {});
    else it(snippet.where, () => expect(compileErrors.get(snippet.file)).toEqual([]));
  }
});

describe('JavaScript in the docs parses, and runs when it stands alone', () => {
  const run = promisify(execFile);
  for (const snippet of javascript) {
    it(`${snippet.where} parses`, async () => {
      await expect(run(process.execPath, ['--check', snippet.file], { timeout: 20_000 })).resolves.toBeDefined();
    });
    if (snippet.skipReason) {
      it.skip(`${snippet.where} runs (skipped: ${snippet.skipReason})`, () => {});
      continue;
    }
    it(`${snippet.where} runs`, async () => {
      const result = await run(process.execPath, [snippet.file], { cwd: scratch, timeout: 20_000 }).catch((error) => error);
      expect(result.code ?? 0, `${result.stderr}`).toBe(0);
    });
  }
});
