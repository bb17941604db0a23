// Public surface of @m2m-auth/sdk-core: what @m2m-auth/client and @m2m-auth/resource-server share
// (and, for DPoP, the server: one implementation of RFC 9449's checks for both sides).
// Not meant for applications: each SDK depends on it and re-exports nothing from it.
export { createOptionChecks, describeValue, type Fail, type OptionChecks } from './option-checks.js';
export { fetchIssuerMetadata } from './issuer-metadata.js';
export { memoizeSuccess } from './memoize-success.js';
export { safeListener } from './safe-listener.js';
export { httpsOrigin, withoutTrailingSlashes } from './https-origin.js';
export { generateChecksummedSecret, isWellFormedChecksummedSecret } from './checksummed-secret.js';
export {
  checkDpopProof,
  DEFAULT_DPOP_ALGORITHMS,
  DPOP_ALGORITHMS,
  MAX_DPOP_PROOF_LENGTH,
  type CheckedDpopProof,
  type DpopAlgorithm,
  type DpopFailureReason,
  type DpopPolicy,
  type DpopProofCheck,
  type DpopRequest,
} from './dpop/check-dpop-proof.js';
export { createDpopNonces, DEFAULT_DPOP_NONCE_LIFETIME_SECONDS, type DpopNonces, type DpopNonceOptions, type DpopNonceStanding } from './dpop/dpop-nonces.js';
export { accessTokenHash } from './dpop/access-token-hash.js';
export { jwkThumbprint } from './dpop/jwk-thumbprint.js';
export { normalizeHtu } from './dpop/htu.js';
export { certificateThumbprint } from './mtls/certificate-thumbprint.js';
export { formatClientCertHeader, MAX_CLIENT_CERT_HEADER_LENGTH, parseClientCertHeader } from './mtls/client-cert-header.js';
