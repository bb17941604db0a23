import { createRuntime } from '../../boot/create-runtime.js';
import { createMemoryStorage } from '../../storage/memory/memory-storage.js';
import { generateMasterKey, parseMasterKey } from '../../keys/master-key.js';
import { createLogger } from '../logger.js';
import { buildApp } from '../app.js';
import { OPENAPI_PATH } from './admin-routes.js';

/**
 * The admin API's OpenAPI document as a running server serves it, built from the same route
 * table and schemas without storage or keys: what `npm run docs:admin-api` commits.
 */
export async function renderAdminOpenApiDocument(): Promise<Record<string, unknown>> {
  const storage = createMemoryStorage();
  const logger = createLogger('silent');
  const runtime = createRuntime({ storage, masterKey: parseMasterKey(generateMasterKey()), issuer: 'https://auth.invalid', logger });
  const app = buildApp(runtime, { logger });
  try {
    await app.ready();
    return (await app.inject({ method: 'GET', url: OPENAPI_PATH })).json();
  } finally {
    await app.close();
    await storage.close();
  }
}
