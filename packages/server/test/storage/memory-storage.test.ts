import { describeStorageConformance } from './conformance/storage-conformance.js';
import { createMemoryStorage } from '../../src/storage/memory/memory-storage.js';

describeStorageConformance('memory', {
  makeStorage: async () => createMemoryStorage(),
  // In-process storage has one "connection": a second handle shares it, and closing that handle
  // must not close the store under the first.
  connectAgain: async (storage) => ({ ...storage, close: async () => undefined }),
});
