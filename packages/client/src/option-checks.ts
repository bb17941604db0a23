import { createOptionChecks, type OptionChecks } from '@m2m-auth/sdk-core';
import { TokenClientError } from './errors.js';

/** Checks for a named SDK function: each failure is a `configuration_error` naming the option. */
export function optionChecks(where: string): OptionChecks & { fail: (message: string) => never } {
  const fail = (message: string): never => {
    throw new TokenClientError('configuration_error', `${where}: ${message}`);
  };
  return { ...createOptionChecks(fail), fail };
}
