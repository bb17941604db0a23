import { Command, Option } from 'commander';
import type { SubjectMatch } from '../storage/types.js';
import { SUBJECT_MATCHES } from '../federation/federation-rules.js';
import { federatedCredentialResource, type FederatedCredentialWire } from '../admin/resources/federated-credential.js';
import { withAdmin } from './cli-context.js';
import { action, fields, print, table, UsageError, withManagementOptions, type ManagementOptions } from './output.js';

interface FederatedOptions extends ManagementOptions {
  client: string;
  issuer: string;
  subject: string;
  subjectMatch: SubjectMatch;
  audience: string[];
  claim: Record<string, string>;
  description?: string;
  id: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `--claim NAME=VALUE`, repeatable; a name given twice is a mistake, not an overwrite. */
function collectClaim(value: string, previous: Record<string, string>): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new UsageError(`--claim must be NAME=VALUE, e.g. repository_owner_id=123456 (got ${JSON.stringify(value)})`);
  const name = value.slice(0, at);
  if (Object.hasOwn(previous, name)) throw new UsageError(`--claim ${name} is given twice`);
  return { ...previous, [name]: value.slice(at + 1) };
}

const subjectOf = (credential: FederatedCredentialWire) => (credential.subject_match === 'prefix' ? `${credential.subject}… (prefix)` : credential.subject);
const claimsOf = (credential: FederatedCredentialWire) =>
  Object.entries(credential.claims)
    .map(([name, value]) => `${name}=${value}`)
    .join(', ');

const describeCredential = (credential: FederatedCredentialWire) =>
  fields([
    ['id', credential.id],
    ['client_id', credential.client_id],
    ['issuer', credential.issuer],
    ['subject', subjectOf(credential)],
    ['audiences', credential.audiences.length > 0 ? credential.audiences : 'this server’s issuer identifier'],
    ['claims', claimsOf(credential) || '-'],
    ['description', credential.description || '-'],
    ['created', credential.created_at],
  ]);

/** `m2m-auth clients federated add|list|remove --client …`: platform tokens that authenticate as a client, instead of a secret. */
export function federatedCredentialsCommand(): Command {
  const federated = new Command('federated').description(
    'a client’s federated credentials: tokens of a trusted issuer (Kubernetes, CI, SPIFFE) that authenticate as the client instead of a secret',
  );

  withManagementOptions(federated.command('add').description('let tokens of a trusted issuer with this subject authenticate as the client'))
    .requiredOption('--client <client_id>', 'the client')
    .requiredOption('--issuer <url>', 'a trusted issuer (m2m-auth issuers add)')
    .requiredOption('--subject <sub>', 'the sub its tokens carry, matched literally, e.g. system:serviceaccount:payments:api')
    .addOption(
      new Option('--subject-match <match>', 'prefix: the sub starts with --subject (ending at ":" or "/", at least 3 parts)')
        .choices(SUBJECT_MATCHES)
        .default('exact'),
    )
    .option('--audience <aud>', 'an accepted aud of the platform token; repeat for several (default: this server’s issuer identifier)', collect, [])
    .option('--claim <name=value>', 'a claim the token must carry with exactly this value, e.g. repository_owner_id=123456; repeatable', collectClaim, {})
    .option('--description <text>', 'free text')
    .action(
      action(async (options: FederatedOptions) =>
        withAdmin(options, async ({ admin }) => {
          const credential = await admin.addFederatedCredential(options.client, {
            issuer: options.issuer,
            subject: options.subject,
            subjectMatch: options.subjectMatch,
            audiences: options.audience,
            claims: options.claim,
            ...(options.description !== undefined ? { description: options.description } : {}),
          });
          const view = federatedCredentialResource.toWire(credential);
          print(options, () => `Federated credential added\n${describeCredential(view)}`, view);
        }),
      ),
    );

  withManagementOptions(federated.command('list').description('list a client’s federated credentials'))
    .requiredOption('--client <client_id>', 'the client')
    .action(
      action(async (options: FederatedOptions) =>
        withAdmin(options, async ({ admin }) => {
          const list = (await admin.listFederatedCredentials(options.client)).map(federatedCredentialResource.toWire);
          print(
            options,
            () =>
              table(
                ['ID', 'ISSUER', 'SUBJECT', 'AUDIENCES', 'CLAIMS'],
                list.map((credential) => [
                  credential.id,
                  credential.issuer,
                  subjectOf(credential),
                  credential.audiences.join(',') || null,
                  claimsOf(credential) || null,
                ]),
              ),
            list,
          );
        }),
      ),
    );

  withManagementOptions(federated.command('remove').description('remove a federated credential: its tokens stop authenticating at once'))
    .requiredOption('--client <client_id>', 'the client')
    .requiredOption('--id <credential_id>', 'the federated credential (see list)')
    .action(
      action(async (options: FederatedOptions) =>
        withAdmin(options, async ({ admin }) => {
          await admin.removeFederatedCredential(options.client, options.id);
          print(options, () => `Federated credential ${options.id} of ${options.client} removed`, { client_id: options.client, removed: options.id });
        }),
      ),
    );
  return federated;
}
