import { Command } from 'commander';
import { exchangePolicyResource, type ExchangePolicyWire } from '../admin/resources/exchange-policy.js';
import { allPages } from '../admin/paging.js';
import { withAdmin } from './cli-context.js';
import { action, fields, parseList, print, table, UsageError, withManagementOptions, type ManagementOptions } from './output.js';

interface ExchangePolicyOptions extends ManagementOptions {
  client?: string;
  subjectClient?: string;
  subjectIssuer?: string;
  api?: string;
  scopes?: string[];
  description?: string;
  id: string;
}

/** The subject as one word: a client id, `*`, or the issuer. */
const subjectOf = (policy: ExchangePolicyWire) => policy.subject_issuer ?? policy.subject_client_id!;

const describePolicy = (policy: ExchangePolicyWire) =>
  fields([
    ['id', policy.id],
    ['client_id', policy.client_id],
    policy.subject_issuer !== null
      ? ['subject issuer', policy.subject_issuer]
      : ['subject client', policy.subject_client_id === '*' ? '* (any client)' : policy.subject_client_id],
    ['api', policy.api],
    ['scopes', policy.scopes ?? 'no ceiling (the subject token and the grant decide)'],
    ['description', policy.description || '-'],
    ['created', policy.created_at],
  ]);

/** `m2m-auth exchange-policies add|list|remove`: which client may exchange whose tokens for which API (RFC 8693). */
export function exchangePoliciesCommand(): Command {
  const policies = new Command('exchange-policies').description(
    'token-exchange policies (RFC 8693): which client may trade the tokens it receives for tokens on another API, on the caller’s behalf',
  );

  withManagementOptions(policies.command('add').description('let a client exchange the tokens of a client (or any, *) or a trusted issuer’s JWTs for an API'))
    .requiredOption('--client <client_id>', 'the exchanging client (the actor): it sends the subject token with its own credentials')
    .option('--subject-client <client_id>', 'the client whose tokens it may exchange, or * for any client of this server')
    .option('--subject-issuer <url>', 'instead: a trusted issuer whose JWTs it may exchange (m2m-auth issuers add)')
    .requiredOption('--api <identifier>', 'the API of the tokens it obtains (never the admin API)')
    .option('--scopes <list>', 'comma-separated ceiling, scopes of that API (default: none beyond the subject token and the client’s grant)', parseList)
    .option('--description <text>', 'free text')
    .action(
      action(async (options: ExchangePolicyOptions) => {
        if ((options.subjectClient === undefined) === (options.subjectIssuer === undefined))
          throw new UsageError('give exactly one of --subject-client <client_id|*> and --subject-issuer <url>');
        await withAdmin(options, async ({ admin }) => {
          const policy = await admin.addExchangePolicy({
            clientId: options.client!,
            ...(options.subjectClient !== undefined ? { subjectClientId: options.subjectClient } : { subjectIssuer: options.subjectIssuer! }),
            apiIdentifier: options.api!,
            ...(options.scopes !== undefined ? { scopes: options.scopes } : {}),
            ...(options.description !== undefined ? { description: options.description } : {}),
          });
          const view = exchangePolicyResource.toWire(policy);
          print(options, () => `Exchange policy added\n${describePolicy(view)}`, view);
        });
      }),
    );

  withManagementOptions(policies.command('list').description('list exchange policies'))
    .option('--client <client_id>', 'only those of this exchanging client')
    .option('--api <identifier>', 'only those for this API')
    .action(
      action(async (options: ExchangePolicyOptions) =>
        withAdmin(options, async ({ admin }) => {
          const filter = { ...(options.client ? { clientId: options.client } : {}), ...(options.api ? { apiIdentifier: options.api } : {}) };
          const list = (await allPages((page) => admin.listExchangePolicies({ ...filter, ...page }))).map(exchangePolicyResource.toWire);
          print(
            options,
            () =>
              table(
                ['ID', 'CLIENT_ID', 'SUBJECT', 'API', 'SCOPES'],
                list.map((policy) => [policy.id, policy.client_id, subjectOf(policy), policy.api, policy.scopes?.join(',') ?? null]),
              ),
            list,
          );
        }),
      ),
    );

  withManagementOptions(policies.command('remove').description('remove an exchange policy: the exchanges it allowed are refused at once'))
    .requiredOption('--id <policy_id>', 'the policy (see list)')
    .action(
      action(async (options: ExchangePolicyOptions) =>
        withAdmin(options, async ({ admin }) => {
          await admin.removeExchangePolicy(options.id);
          print(options, () => `Exchange policy ${options.id} removed`, { removed: options.id });
        }),
      ),
    );
  return policies;
}
