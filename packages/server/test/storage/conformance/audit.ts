import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Storage } from '../../../src/storage/types.js';
import type { ConformanceHarness } from './fixtures.js';

/** Audit events: newest first, filtered, paged by time, pruned by age. */
export function describeAudit(harness: ConformanceHarness, T0: number): void {
  describe('capability: audit', () => {
    let storage: Storage;
    beforeEach(async () => {
      storage = await harness.makeStorage();
    });
    afterEach(async () => {
      await storage.close();
    });

    describe('audit log', () => {
      it('lists newest first, filtered and limited', async () => {
        for (let i = 0; i < 5; i += 1) {
          await storage.appendAuditEvent({
            id: `e${i}`,
            at: T0 + i,
            type: i % 2 ? 'client.created' : 'api.created',
            actor: i < 3 ? 'cli' : 'admin-api',
            data: { n: i },
          });
        }
        expect((await storage.listAuditEvents()).map((e) => e.id)).toEqual(['e4', 'e3', 'e2', 'e1', 'e0']);
        expect((await storage.listAuditEvents({ type: 'client.created' })).map((e) => e.id)).toEqual(['e3', 'e1']);
        expect((await storage.listAuditEvents({ actor: 'cli', limit: 2 })).map((e) => e.id)).toEqual(['e2', 'e1']);
        expect((await storage.listAuditEvents({ limit: 1 }))[0]).toEqual({ id: 'e4', at: T0 + 4, type: 'api.created', actor: 'admin-api', data: { n: 4 } });
      });
    });

    describe('audit queries', () => {
      it('filters by time range, pages newest first with ties broken by id, and prunes by age', async () => {
        for (const [id, at] of [
          ['e1', T0],
          ['e3', T0 + 10],
          ['e2', T0 + 10],
          ['e4', T0 + 20],
        ] as const) {
          await storage.appendAuditEvent({ id, at, type: 'client.updated', actor: 'cli', data: {} });
        }
        expect((await storage.listAuditEvents()).map((e) => e.id)).toEqual(['e4', 'e3', 'e2', 'e1']);
        expect((await storage.listAuditEvents({ since: T0 + 10, until: T0 + 20 })).map((e) => e.id)).toEqual(['e3', 'e2']);
        expect((await storage.listAuditEvents({ limit: 2, before: { at: T0 + 10, id: 'e3' } })).map((e) => e.id)).toEqual(['e2', 'e1']);
        expect(await storage.pruneAuditEvents(T0 + 10)).toBe(1);
        expect((await storage.listAuditEvents()).map((e) => e.id)).toEqual(['e4', 'e3', 'e2']);
      });
    });
  });
}
