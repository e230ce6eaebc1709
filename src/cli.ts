/**
 * `hearth` command line: the engine, and (as they land) the ledger and redaction tools, without VS Code.
 * Each subcommand lives in src/node/cli/; this file only dispatches and turns failures into exit codes:
 * 0 done (nothing wrong found), 1 a problem found or the command failed, 2 a wrong command line, 130 interrupted.
 * A failure prints one line naming what failed and what to do; never a stack trace.
 */
import { HelpRequested, UsageError, type CliCommand } from './node/cli/args';
import { completeCommand, statusCommand } from './node/cli/engineCommands';
import { redactCommand } from './node/cli/redactCommand';
import { ledgerCommand } from './node/cli/ledgerCommand';
import { modelsCommand } from './node/cli/modelsCommand';
import { cliErrorMessage } from './node/cli/cliErrors';
import { OutputRefusedError } from './node/safeOutput';
import { benchCommand } from './node/cli/benchRepoCommand';
import { engineCommand } from './node/cli/engineBuildCommand';

const commands: CliCommand[] = [completeCommand, statusCommand, ledgerCommand, modelsCommand, redactCommand, benchCommand, engineCommand];

function help(): string {
  return ['usage: hearth <command> [options]', '', ...commands.map((c) => `  ${c.usage.replace(/\n/g, '\n  ')}\n      ${c.summary}`), '', 'hearth <command> --help shows one command.'].join('\n') + '\n';
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(help());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`hearth: unknown command "${name}"; the commands are ${commands.map((c) => c.name).join(', ')}\n\n${help()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(`usage: ${err.usage}\n`);
      return 0;
    }
    if (err instanceof UsageError || err instanceof OutputRefusedError) {
      if (err instanceof OutputRefusedError) {
        process.stderr.write(`hearth ${name}: ${err.message}\n`);
        return 2;
      }
      process.stderr.write(`hearth ${name}: ${err.message}\nusage: ${err.usage ?? command.usage}\n`);
      return 2;
    }
    process.stderr.write(`hearth ${name}: ${cliErrorMessage(err)}\n`);
    return 1;
  }
}

// A broken pipe (`hearth ledger export … | head`) is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
});

void main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`hearth: ${cliErrorMessage(err)}\n`);
    process.exit(1);
  },
);
