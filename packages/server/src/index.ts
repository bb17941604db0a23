// Public surface of @m2m-auth/server.
export { startServer, type StartServerOptions, type RunningServer } from './http/start-server.js';
export { buildApp, type AppOptions } from './http/app.js';
export { createRuntime, type ServerRuntime, type RuntimeOptions } from './boot/create-runtime.js';
export {
  createAdmin,
  type Admin,
  type CreateApiInput,
  type CreateClientInput,
  type CreateGrantInput,
  type ApplyConfigOptions,
  type ApplyConfigResult,
  type ConfigDocument,
  type ConfigPlan,
  type CreatedSecret,
  type PlanChange,
} from './admin/admin.js';
export { AdminError, type AdminErrorCode } from './errors/admin-error.js';
export { OAuthError, type OAuthErrorCode } from './errors/oauth-error.js';
export { toOAuthResponse } from './errors/to-oauth-response.js';
export { resolveServerConfig, ConfigError, type ServerConfig } from './config/server-config.js';
export { openStorage } from './storage/open-storage.js';
export * from './storage/types.js';
