import { closeSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { Command, Option } from 'commander';
import YAML from 'yaml';
import type { ApplyConfigResult, ConfigPlan, CreatedSecret, PlanChange } from '../admin/apply-config.js';
import { withAdmin } from './cli-context.js';
import { action, UsageError, withManagementOptions, type ManagementOptions } from './output.js';

interface ExportOptions extends ManagementOptions {
  format: 'yaml' | 'json';
  output?: string;
  includeAdmin?: boolean;
}

interface ApplyOptions extends ManagementOptions {
  file: string;
  dryRun?: boolean;
  prune?: boolean;
  allowDeleteAdmin?: boolean;
  secretsFile?: string;
}

export function exportCommand(): Command {
  return withManagementOptions(
    new Command('export').description(
      'write APIs, trusted issuers, clients with their federated credentials, and grants as one configuration document (never a secret)',
    ),
  )
    .addOption(new Option('--format <format>', 'document format (--json: json)').choices(['yaml', 'json']).default('yaml'))
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--include-admin', 'also write the built-in admin API urn:m2m-auth:admin (apply leaves it unchanged)')
    .action(
      action(async (options: ExportOptions) =>
        withAdmin(options, async ({ admin }) => {
          const document = await admin.exportConfig({ includeAdmin: options.includeAdmin === true });
          const text =
            options.format === 'json' || options.json
              ? `${JSON.stringify(document, null, 2)}\n`
              : `# m2m-auth configuration, format version 1. Apply with: m2m-auth apply -f <this file>\n${YAML.stringify(document, { lineWidth: 0 })}`;
          if (options.output === undefined) process.stdout.write(text);
          else writeFileSync(options.output, text);
        }),
      ),
    );
}

export function applyCommand(): Command {
  return withManagementOptions(
    new Command('apply').description('make the server match a configuration document: show the plan, then apply it in one transaction'),
  )
    .requiredOption('-f, --file <path>', 'the document, YAML or JSON ("-" reads stdin)')
    .option('--dry-run', 'only show the plan')
    .option('--prune', 'delete APIs, trusted issuers, clients, federated credentials and grants the document does not list')
    .option('--allow-delete-admin', 'let --prune delete the calling admin client or the last client holding admin scopes (refused otherwise)')
    .option('--secrets-file <path>', 'write the secrets of new clients to this new file (JSON, mode 0600) instead of printing them')
    .action(
      action(async (options: ApplyOptions) => {
        const document = readDocument(options.file);
        // Opened before anything changes: a secret that cannot be saved must not be issued.
        const secretsFile = options.secretsFile !== undefined && !options.dryRun ? openSecretsFile(options.secretsFile) : undefined;
        let result: ApplyConfigResult;
        try {
          result = await withAdmin(options, ({ admin }) =>
            admin.applyConfig(document, {
              dryRun: options.dryRun === true,
              prune: options.prune === true,
              allowAdminDeletion: options.allowDeleteAdmin === true,
            }),
          );
        } catch (error) {
          secretsFile?.discard();
          throw error;
        }
        const savedTo = secretsFile?.save(result.createdSecrets);
        report(options, result, savedTo);
      }),
    );
}

function readDocument(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    // YAML 1.2 reads JSON as well; duplicate keys are an error, not a silent overwrite.
    return YAML.parse(text);
  } catch (error) {
    throw new UsageError(`${path} is not valid YAML or JSON: ${(error as Error).message}`);
  }
}

function openSecretsFile(path: string) {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    throw new UsageError(
      `--secrets-file ${path}: ${(error as NodeJS.ErrnoException).code === 'EEXIST' ? 'the file exists; name a new one (secrets in it may not be stored elsewhere yet)' : (error as Error).message}`,
    );
  }
  const discard = () => {
    closeSync(fd);
    unlinkSync(path);
  };
  return {
    discard,
    /** Writes the secrets and returns the path, or removes the empty file and returns undefined. */
    save(secrets: CreatedSecret[]): string | undefined {
      if (secrets.length === 0) return (discard(), undefined);
      writeSync(fd, `${JSON.stringify(secrets, null, 2)}\n`);
      closeSync(fd);
      return path;
    },
  };
}

const SECRET_WARNING = 'Store these secrets now (e.g. in your secrets manager): they are shown only once and cannot be recovered.';

function report(options: ApplyOptions, result: ApplyConfigResult, savedTo: string | undefined) {
  const printsSecrets = result.createdSecrets.length > 0 && savedTo === undefined;
  if (printsSecrets) process.stderr.write(`warning: ${SECRET_WARNING}\n`);
  if (options.json) {
    const secrets = savedTo === undefined ? { created_secrets: result.createdSecrets } : { secrets_file: savedTo };
    process.stdout.write(`${JSON.stringify({ plan: result.plan, applied: result.applied, dry_run: options.dryRun === true, ...secrets }, null, 2)}\n`);
    return;
  }
  const lines = [renderPlan(result.plan)];
  if (options.dryRun) lines.push('', 'Dry run: nothing was changed.');
  else if (result.applied) lines.push('', `Applied: ${summary(result.plan, ['created', 'updated', 'deleted'])}.`);
  if (printsSecrets) lines.push('', 'New secrets (shown once):', ...result.createdSecrets.map(describeSecret));
  if (savedTo !== undefined) lines.push('', `${result.createdSecrets.length} new secret(s) written to ${savedTo} (mode 0600).`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Fields the change's key already shows. */
const NAMED_BY_KEY = ['identifier', 'client', 'api', 'issuer', 'subject'];

const SIGNS: Record<PlanChange['action'], string> = { create: '+', update: '~', delete: '-' };

/** The plan as `terraform plan` shows one: a sign per change, then the fields it sets or changes. */
export function renderPlan(plan: ConfigPlan): string {
  const lines: string[] = [];
  if (plan.changes.length === 0) lines.push('No changes: the server already matches the document.');
  else lines.push(`Plan: ${summary(plan)}.`, '');
  for (const change of plan.changes) {
    lines.push(`  ${SIGNS[change.action]} ${change.resource} ${change.key}`);
    for (const [field, value] of Object.entries(change.after ?? {})) if (!NAMED_BY_KEY.includes(field)) lines.push(`      ${field}: ${show(value)}`);
    for (const [field, { before, after }] of Object.entries(change.changes ?? {})) lines.push(`      ${field}: ${show(before)} → ${show(after)}`);
  }
  if (plan.kept.length > 0) {
    lines.push('', 'Not in the document, kept (apply with --prune to delete):');
    for (const kept of plan.kept) lines.push(`  ${kept.resource} ${kept.key}`);
  }
  return lines.join('\n');
}

function summary(plan: ConfigPlan, [created, updated, deleted] = ['to create', 'to update', 'to delete']): string {
  const count = (action: PlanChange['action']) => plan.changes.filter((change) => change.action === action).length;
  return `${count('create')} ${created}, ${count('update')} ${updated}, ${count('delete')} ${deleted}`;
}

function show(value: unknown): string {
  if (Array.isArray(value))
    return `[${value.map((item) => (typeof item === 'string' ? item : isScope(item) ? (item.description ? `${item.value} (${item.description})` : item.value) : JSON.stringify(item))).join(', ')}]`;
  return JSON.stringify(value);
}

const isScope = (item: unknown): item is { value: string; description: string } => typeof (item as { value?: unknown } | null)?.value === 'string';

function describeSecret(secret: CreatedSecret): string {
  return secret.resource === 'client'
    ? `  client ${secret.name} (${secret.client_id}): client_secret ${secret.client_secret}`
    : `  api ${secret.identifier}: shared_secret ${secret.shared_secret}`;
}
