/**
 * `hearth` command line: the engine, and (as they land) the ledger and redaction tools, without VS Code.
 * Each subcommand lives in src/node/cli/; this file only dispatches.
 */
import { UsageError, type CliCommand } from './node/cli/args';
import { completeCommand, statusCommand } from './node/cli/engineCommands';
import { redactCommand } from './node/cli/redactCommand';
import { ledgerCommand } from './node/cli/ledgerCommand';
import { modelsCommand } from './node/cli/modelsCommand';
import { benchCommand } from './node/cli/benchRepoCommand';

const commands: CliCommand[] = [completeCommand, statusCommand, ledgerCommand, modelsCommand, redactCommand, benchCommand];

function help(): string {
  return ['usage: hearth <command> [options]', '', ...commands.map((c) => `  ${c.usage}\n      ${c.summary}`)].join('\n') + '\n';
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(help());
    return name === undefined || name === '--help' ? 0 : 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`usage: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`hearth ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
