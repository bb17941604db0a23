import { invalidTarget } from '../errors/oauth-error.js';
import { readTokenRequest } from './client-credentials-grant.js';
import type { GrantType } from './grant-type.js';

/**
 * A client-credentials grant that issues tokens for one API only: the admin listener's token
 * endpoint, where the web console signs in, hands out admin tokens and nothing else, so a listener
 * kept on a private address does not become a second door to every API. Checked after the client
 * is authenticated (the same failures, limits and events as the main endpoint) and before
 * anything is issued.
 */
export function forAudienceOnly(grant: GrantType, audience: string): GrantType {
  return {
    ...grant,
    async handle(client, params, binding) {
      const target = readTokenRequest(params).audience ?? client.defaultApi;
      if (target !== audience) throw invalidTarget(`This endpoint issues tokens for ${audience} only.`);
      return grant.handle(client, params, binding);
    },
  };
}
