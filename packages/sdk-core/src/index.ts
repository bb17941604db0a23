// Public surface of @m2m-auth/sdk-core: what @m2m-auth/client and @m2m-auth/resource-server share.
// Not meant for applications: each SDK depends on it and re-exports nothing from it.
export { createOptionChecks, describeValue, type Fail, type OptionChecks } from './option-checks.js';
export { fetchIssuerMetadata } from './issuer-metadata.js';
export { memoizeSuccess } from './memoize-success.js';
export { safeListener } from './safe-listener.js';
export { httpsOrigin, withoutTrailingSlashes } from './https-origin.js';
