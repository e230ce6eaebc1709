/** Minimal argument parsing for the `hearth` CLI: `--flag value`, `--switch`, and positionals. */
export interface ParsedArgs {
  flags: Map<string, string>;
  switches: Set<string>;
  positional: string[];
}

/** `booleans` names the flags that take no value. */
export function parseArgs(argv: string[], booleans: readonly string[] = []): ParsedArgs {
  const flags = new Map<string, string>();
  const switches = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
      if (booleans.includes(name)) switches.add(name);
      else flags.set(name, inline ?? argv[++i] ?? '');
    } else positional.push(a);
  }
  return { flags, switches, positional };
}

/** A CLI subcommand: returns the process exit code. */
export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

/** Thrown for a wrong command line: the CLI prints the usage and exits with 2. */
export class UsageError extends Error {}
