import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Tests run against the TypeScript sources, not dist/, so a change is tested without a build.
// The end-to-end tests that spawn real processes use dist/ (npm test builds first).
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@m2m-auth\/server$/, replacement: here('./packages/server/src/index.ts') },
      { find: /^@m2m-auth\/sdk-core$/, replacement: here('./packages/sdk-core/src/index.ts') },
      { find: /^@m2m-auth\/client$/, replacement: here('./packages/client/src/index.ts') },
      { find: /^@m2m-auth\/client\/(.+)$/, replacement: here('./packages/client/src/$1.ts') },
      { find: /^@m2m-auth\/resource-server$/, replacement: here('./packages/resource-server/src/index.ts') },
      { find: /^@m2m-auth\/resource-server\/(.+)$/, replacement: here('./packages/resource-server/src/$1.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'bench/test/**/*.test.js', 'examples/test/**/*.test.js', 'docs/test/**/*.test.js', 'test/**/*.test.js'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});
