/**
 * The layers of m2m-auth as rules (docs/architecture.md draws them). `npm test` runs this check
 * (`npm run lint:boundaries`): an import that runs back up a layer, or a cycle, fails the build.
 * The issue that introduced the check named `runtime/`; it is now `registry/` (the cache),
 * `observability/` (metrics and logs) and `boot/` (the composition root), and each rule names all
 * three where it named `runtime/`.
 */
const server = '^packages/server/src/';
const folders = (...names) => `${server}(${names.join('|')})/`;
const WIRING = ['registry', 'observability', 'boot'];

const rule = (name, comment, from, to) => ({ name, comment, severity: 'error', from: { path: from }, to });

module.exports = {
  forbidden: [
    rule('protocol-is-the-floor', 'protocol/ (the vocabulary) imports nothing else of the server', folders('protocol'), {
      path: server,
      pathNot: folders('protocol'),
    }),
    rule(
      'grants-auth-endpoints-below-wiring',
      'grants/, client-auth/ and endpoints/ never import runtime/ (registry/, observability/, boot/), http/, admin/ or cli/',
      folders('grants', 'client-auth', 'endpoints'),
      { path: folders(...WIRING, 'http', 'admin', 'cli') },
    ),
    rule(
      'federation-below-client-auth',
      'federation/ (trusted issuers, platform tokens) is used by client authentication, grants and admin/, and imports none of them',
      folders('federation'),
      { path: folders('client-auth', 'grants', 'endpoints', 'admin', ...WIRING, 'http', 'cli', 'remote', 'config') },
    ),
    rule(
      'sender-constraint-below-grants',
      'sender-constraint/ (DPoP proofs, token binding) is used by the grants and the token endpoint, and imports none of them nor anything above',
      folders('sender-constraint'),
      { path: folders('client-auth', 'grants', 'endpoints', 'federation', 'admin', ...WIRING, 'http', 'cli', 'remote', 'config', 'keys', 'tokens') },
    ),
    rule(
      'usage-below-endpoints',
      'usage/ (token counts, client quotas) is used by endpoints/, observability/, admin/ and boot/, and imports none of them',
      folders('usage'),
      { path: folders('endpoints', 'admin', ...WIRING, 'http', 'cli', 'remote') },
    ),
    rule('grants-and-auth-below-endpoints', 'grants and client authentication never import endpoints/', folders('grants', 'client-auth'), {
      path: folders('endpoints'),
    }),
    rule('errors-know-no-adapter', 'errors/ imports none of endpoints/, state/, storage/, http/, runtime/ (it speaks only protocol/)', folders('errors'), {
      path: server,
      pathNot: folders('errors', 'protocol'),
    }),
    rule('tokens-and-keys-below-admin', 'tokens/ and keys/ never import admin/, grants/ or endpoints/', folders('tokens', 'keys'), {
      path: folders('admin', 'grants', 'endpoints'),
    }),
    rule('config-below-wiring', 'config/ never imports runtime/ (registry/, observability/, boot/) or http/', folders('config'), {
      path: folders(...WIRING, 'http'),
    }),
    rule('admin-below-http', 'admin/ never imports endpoints/, http/, cli/ or runtime/ (registry/, observability/, boot/)', folders('admin'), {
      path: folders('endpoints', 'http', 'cli', ...WIRING),
    }),
    rule('storage-apart-from-state', 'storage/ and state/ never import each other or anything above them', folders('storage'), {
      path: server,
      pathNot: folders('storage', 'protocol', 'errors'),
    }),
    rule('state-apart-from-storage', 'storage/ and state/ never import each other or anything above them', folders('state'), {
      path: server,
      pathNot: folders('state', 'protocol', 'errors'),
    }),
    rule('remote-not-http', 'remote/ never imports http/', folders('remote'), { path: folders('http') }),
    rule('one-composition-root', 'nothing below the wiring imports boot/: only http/, cli/ and the package index compose the system', server, {
      path: folders('boot'),
      pathNot: folders('boot', 'http', 'cli'),
    }),
    rule('sdks-apart', 'the SDKs never import each other’s source or the server’s (sdk-core is what they share)', '^packages/(client|resource-server)/', {
      path: '^packages/(server|client|resource-server)/',
      pathNot: '^packages/$1/',
    }),
    rule('sdk-core-below-the-sdks', 'sdk-core imports neither SDK nor the server', '^packages/sdk-core/', {
      path: '^packages/(server|client|resource-server)/',
    }),
    rule(
      'console-speaks-http-only',
      'the operators’ console (packages/server/console) talks to the server over the admin API only: it imports no server, SDK or other package source',
      '^packages/server/console/',
      { path: '^packages/', pathNot: '^packages/server/console/' },
    ),
    rule('no-cycles', 'no import cycles, type-only ones included', '^packages/', { circular: true }),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.test.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js'] },
  },
};
