import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../scripts/sync-doc-includes.mjs';

/** The property names of an exported interface, read from the TypeScript source. */
function interfaceFields(sourcePath, name) {
  const source = readFileSync(join(ROOT, sourcePath), 'utf8');
  const body = new RegExp(`export interface ${name}(?: extends [^{]+)? \\{([\\s\\S]*?)\\n\\}`).exec(source)?.[1];
  if (!body) throw new Error(`no interface ${name} in ${sourcePath}`);
  return [...body.matchAll(/^ {2}(?:readonly )?(\w+)\??:/gm)].map((match) => match[1]);
}

const cases = [
  ['docs/client-sdk.md', 'packages/client/src/token-client-options.ts', 'TokenClientOptions'],
  ['docs/client-sdk.md', 'packages/client/src/token-client-options.ts', 'TokenRequestOptions'],
  ['docs/client-sdk.md', 'packages/client/src/retry.ts', 'RetryPolicy'],
  ['docs/resource-server-sdk.md', 'packages/resource-server/src/core/verifier-options.ts', 'VerifierOptions'],
  ['docs/resource-server-sdk.md', 'packages/resource-server/src/core/introspection.ts', 'IntrospectionOptions'],
  ['docs/resource-server-sdk.md', 'packages/resource-server/src/core/principal.ts', 'AuthoritiesOptions'],
  ['docs/resource-server-sdk.md', 'packages/resource-server/src/core/principal.ts', 'Principal'],
  ['docs/resource-server-sdk.md', 'packages/resource-server/src/core/bearer-token.ts', 'BearerOptions'],
];

describe('the SDK guides name every option the code has', () => {
  for (const [doc, source, name] of cases) {
    it(`${doc} covers ${name}`, () => {
      const markdown = readFileSync(join(ROOT, doc), 'utf8');
      const fields = interfaceFields(source, name);
      expect(fields.length).toBeGreaterThan(0);
      expect(fields.filter((field) => !markdown.includes(`\`${field}\``) && !new RegExp(`[\`{,] ?${field}[?:\` ,]`).test(markdown))).toEqual([]);
    });
  }
});
