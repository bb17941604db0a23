import { describe } from 'vitest';
import type { ConformanceHarness } from './fixtures.js';
import { describeRegistryCrud } from './registry-crud.js';
import { describePaging } from './paging.js';
import { describeTransactions } from './transactions.js';
import { describeRevision } from './revision.js';
import { describeCrossConnection } from './cross-connection.js';
import { describeAudit } from './audit.js';
import { describeChangeFeed } from './change-feed.js';
import { describeFederation } from './federation.js';
import { describeExchangePolicies } from './exchange-policies.js';

export type { ConformanceHarness } from './fixtures.js';

/**
 * The one behavioural contract every storage adapter must pass, unchanged: an adapter is done when
 * every capability below is green against it. Each capability is its own file, so a failure names
 * what the adapter cannot do.
 */
export function describeStorageConformance(adapterName: string, harness: ConformanceHarness): void {
  // Records are stamped from the injected clock; the default is a fixed instant, so runs repeat.
  const T0 = harness.now?.() ?? Date.UTC(2026, 0, 1);
  describe(`storage conformance: ${adapterName}`, () => {
    describeRegistryCrud(harness, T0);
    describePaging(harness, T0);
    describeTransactions(harness, T0);
    describeRevision(harness, T0);
    describeCrossConnection(harness, T0);
    describeChangeFeed(harness, T0);
    describeAudit(harness, T0);
    describeFederation(harness, T0);
    describeExchangePolicies(harness, T0);
  });
}
