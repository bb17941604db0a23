import { describeStorageConformance } from './conformance/storage-conformance.js';
import { createMemoryStorage } from '../../src/storage/memory/memory-storage.js';

describeStorageConformance('memory', async () => createMemoryStorage());
