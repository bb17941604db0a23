import { Command } from 'commander';
import { generateMasterKey } from '../keys/master-key.js';
import { apisCommand } from './apis-command.js';
import { clientsCommand } from './clients-command.js';
import { grantsCommand } from './grants-command.js';
import { issuersCommand } from './issuers-command.js';
import { exchangePoliciesCommand } from './exchange-policies-command.js';
import { keysCommand } from './keys-command.js';
import { tokenCommand } from './token-command.js';
import { decodeCommand } from './decode-command.js';
import { serveCommand } from './serve-command.js';
import { migrateCommand } from './migrate-command.js';
import { adminCommand } from './admin-command.js';
import { auditCommand } from './audit-command.js';
import { applyCommand, exportCommand } from './config-command.js';

export function buildCli(): Command {
  const program = new Command('m2m-auth')
    .description('OAuth 2.0 client-credentials authorization server for machine-to-machine authentication')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)');
  program.addCommand(serveCommand());
  program.addCommand(migrateCommand());
  program.addCommand(apisCommand());
  program.addCommand(clientsCommand());
  program.addCommand(grantsCommand());
  program.addCommand(issuersCommand());
  program.addCommand(exchangePoliciesCommand());
  program.addCommand(keysCommand());
  program.addCommand(auditCommand());
  program.addCommand(exportCommand());
  program.addCommand(applyCommand());
  program.addCommand(adminCommand());
  program.addCommand(tokenCommand());
  program.addCommand(decodeCommand());
  program
    .command('master-key')
    .description('print a new random master key for M2M_AUTH_MASTER_KEY')
    .action(() => {
      process.stdout.write(`${generateMasterKey()}\n`);
    });
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  await buildCli().parseAsync(argv);
}
