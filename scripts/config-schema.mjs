#!/usr/bin/env node
// Writes the configuration document's JSON Schema (packages/server/schema/m2m-auth-config.schema.json)
// from the admin resource definitions. A test fails when the committed file differs from this.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigDocumentSchema } from '../packages/server/dist/admin/resources/config-document.js';

export const CONFIG_SCHEMA_FILE = fileURLToPath(new URL('../packages/server/schema/m2m-auth-config.schema.json', import.meta.url));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(CONFIG_SCHEMA_FILE, renderConfigDocumentSchema());
  console.log(`wrote ${CONFIG_SCHEMA_FILE}`);
}
