/**
 * The layers of m2m-auth, as rules (docs/architecture.md draws them). `npm test` runs this check
 * (`npm run lint:boundaries`): an import that runs back up a layer fails the build.
 */
const server = '^packages/server/src/';
const inServer = (...folders) => `${server}(${folders.join('|')})/`;

module.exports = {
  forbidden: [
    { name: 'grants-auth-endpoints-stay-below-wiring', comment: 'grants/, client-auth/ and endpoints/ never import runtime/, http/, admin/ or cli/', severity: 'error',
      from: { path: inServer('grants', 'client-auth', 'endpoints') }, to: { path: inServer('runtime', 'http', 'admin', 'cli') } },
    { name: 'grants-and-auth-below-endpoints', comment: 'grants and client authentication never import endpoints/', severity: 'error',
      from: { path: inServer('grants', 'client-auth') }, to: { path: inServer('endpoints') } },
    { name: 'errors-know-no-adapter', comment: 'errors/ imports none of endpoints/, state/, storage/, http/, runtime/', severity: 'error',
      from: { path: inServer('errors') }, to: { path: inServer('endpoints', 'state', 'storage', 'http', 'runtime') } },
    { name: 'tokens-and-keys-below-admin', comment: 'tokens/ and keys/ never import admin/, grants/ or endpoints/', severity: 'error',
      from: { path: inServer('tokens', 'keys') }, to: { path: inServer('admin', 'grants', 'endpoints') } },
    { name: 'config-below-wiring', comment: 'config/ never imports runtime/ or http/', severity: 'error',
      from: { path: inServer('config') }, to: { path: inServer('runtime', 'http') } },
    { name: 'admin-below-http', comment: 'admin/ never imports endpoints/, http/, cli/ or runtime/', severity: 'error',
      from: { path: inServer('admin') }, to: { path: inServer('endpoints', 'http', 'cli', 'runtime') } },
    { name: 'storage-and-state-apart', comment: 'storage/ and state/ never import each other', severity: 'error',
      from: { path: inServer('storage') }, to: { path: inServer('state') } },
    { name: 'state-and-storage-apart', comment: 'storage/ and state/ never import each other', severity: 'error',
      from: { path: inServer('state') }, to: { path: inServer('storage') } },
    { name: 'storage-and-state-at-the-bottom', comment: 'storage/ and state/ import nothing above them', severity: 'error',
      from: { path: inServer('storage', 'state') }, to: { path: server, pathNot: [inServer('storage', 'state', 'errors')] } },
    { name: 'remote-not-http', comment: 'remote/ never imports http/', severity: 'error',
      from: { path: inServer('remote') }, to: { path: inServer('http') } },
    { name: 'sdks-apart', comment: 'the SDKs never import each other’s source or the server’s', severity: 'error',
      from: { path: '^packages/(client|resource-server)/' }, to: { path: '^packages/(server|client|resource-server)/', pathNot: '^packages/$1/' } },
    { name: 'no-cycles', comment: 'no import cycles, type-only ones included', severity: 'error', from: { path: '^packages/' }, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.test.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js'] },
  },
};
