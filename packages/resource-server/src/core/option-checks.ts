// The option checks live in @m2m-auth/sdk-core, shared with the client SDK. This re-export keeps
// the path that the Redis stores (src/redis/) import from; it is not a copy.
export { createOptionChecks, describeValue, type Fail, type OptionChecks } from '@m2m-auth/sdk-core';
