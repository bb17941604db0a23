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
import { initCommand } from './init-command.js';
import { adminCommand } from './admin-command.js';
import { auditCommand } from './audit-command.js';
import { applyCommand, exportCommand } from './config-command.js';
import { completionCommand } from './completion-command.js';
import { commonOptions, reportError, serverOption, UsageError } from './output.js';
import { usageCommand } from './usage-command.js';

export function buildCli(): Command {
  const program = new Command('m2m-auth')
    .description('OAuth 2.0 client-credentials authorization server for machine-to-machine authentication')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    // Global options go before the command; after it, each command's own (same names) apply.
    .enablePositionalOptions();
  for (const option of [...commonOptions(), serverOption()]) program.addOption(option);
  program.hook('preAction', passGlobalOptions);
  program.addCommand(serveCommand());
  program.addCommand(initCommand());
  program.addCommand(migrateCommand());
  program.addCommand(apisCommand());
  program.addCommand(clientsCommand());
  program.addCommand(grantsCommand());
  program.addCommand(issuersCommand());
  program.addCommand(exchangePoliciesCommand());
  program.addCommand(keysCommand());
  program.addCommand(auditCommand());
  program.addCommand(usageCommand());
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
  program.addCommand(completionCommand(program));
  program.addHelpText(
    'after',
    '\nThe options above go before the command (m2m-auth --data-dir /srv/m2m-auth clients list) or after it, and apply to\n' +
      'every command that reads or writes the registry; `m2m-auth <command> --help` lists a command’s own.',
  );
  return program;
}

/**
 * Gives the command the global options typed before it (`m2m-auth --json clients list`); one typed
 * after the command wins. A global option the command has no use for is an error, not ignored.
 */
function passGlobalOptions(program: Command, command: Command): void {
  for (const option of program.options) {
    const key = option.attributeName();
    if (program.getOptionValueSource(key) !== 'cli') continue;
    if (!command.options.some((own) => own.attributeName() === key)) {
      const name = [...ancestry(command)].join(' ');
      throw new UsageError(`${option.long} does not apply to \`${name}\` (see ${name} --help)`);
    }
    if (command.getOptionValueSource(key) !== 'cli') command.setOptionValueWithSource(key, program.getOptionValue(key), 'cli');
  }
}

function* ancestry(command: Command): Generator<string> {
  if (command.parent) yield* ancestry(command.parent);
  yield command.name();
}

export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (error) {
    // What the commands' own handler (output.ts action) did not catch: an option's value parser, a
    // hook. Still one line, never a stack.
    reportError(error, argv.includes('--json'));
    process.exitCode = 1;
  }
}
