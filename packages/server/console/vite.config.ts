import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The operators' console, built with the server package (npm run build) into dist/console and
 * served by the server at /console. The server's Content-Security-Policy allows only its own
 * scripts and styles, so nothing may be inlined: no module-preload polyfill script, no assets as
 * data: URLs, and no source maps in the package.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  logLevel: 'warn',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    target: 'es2022',
    reportCompressedSize: false,
  },
});
