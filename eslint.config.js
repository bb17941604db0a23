// ESLint for every package: the recommended JavaScript and TypeScript rules, and the few rules
// the style guide states (docs/architecture.md). Formatting is Prettier's (npm run format:check).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'bench/results/**', 'coverage/**', 'packages/*/openapi/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: {
        process: 'readonly',
        Buffer: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
        Response: 'readonly',
        Request: 'readonly',
        Headers: 'readonly',
        crypto: 'readonly',
        performance: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      'no-console': 'off',
    },
  },
  {
    // Tests read loose JSON and write literal regexes of what users see (double spaces included).
    files: ['**/test/**', 'bench/**', 'examples/**', 'scripts/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-regex-spaces': 'off' },
  },
  {
    // The operators' console runs in the browser. Its token lives in memory only and nothing it
    // handles (secrets, pasted tokens) may reach a log: storage APIs, cookies and console.* are refused.
    files: ['packages/server/console/**/*.{ts,tsx}'],
    ignores: ['packages/server/console/vite.config.ts'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        navigator: 'readonly',
        location: 'readonly',
        HTMLElement: 'readonly',
        atob: 'readonly',
        btoa: 'readonly',
      },
    },
    rules: {
      'no-console': 'error',
      'no-restricted-globals': [
        'error',
        { name: 'localStorage', message: 'The console keeps nothing across page loads: state lives in memory.' },
        { name: 'sessionStorage', message: 'The console keeps nothing across page loads: state lives in memory.' },
        { name: 'indexedDB', message: 'The console keeps nothing across page loads: state lives in memory.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'document', property: 'cookie', message: 'No cookie carries credentials: the token is sent as a bearer header.' },
        { object: 'window', property: 'localStorage', message: 'The console keeps nothing across page loads.' },
        { object: 'window', property: 'sessionStorage', message: 'The console keeps nothing across page loads.' },
      ],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    files: ['packages/*/src/**/*.ts'],
    rules: {
      // No casts that switch the type checker off: a wire shape is decoded, not asserted.
      'no-restricted-syntax': [
        'error',
        { selector: 'TSAsExpression > TSNeverKeyword', message: 'No `as never`: decode the value or type the function instead.' },
      ],
    },
  },
);
