import type { ExchangePolicyStore } from './types.js';

/** Temporary: the SQL adapters' exchange-policy table is being written; every call refuses. */
export function exchangePoliciesPending(): ExchangePolicyStore {
  const pending = async (): Promise<never> => {
    throw new Error('exchange-policy storage is not implemented on this adapter yet');
  };
  return { addExchangePolicy: pending, getExchangePolicy: pending, listExchangePolicies: pending, deleteExchangePolicy: pending };
}
