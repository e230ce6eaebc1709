/**
 * The one argument parser of the `hearth` CLI: node's `util.parseArgs`, strict. An unknown flag, a value given
 * to a switch (`--json=false`), a missing value or a stray positional is a usage error (exit 2, with the
 * command's usage), raised before the command does anything, so a typo never silently falls back to a default.
 */
import { resolve } from 'node:path';
import { parseArgs as nodeParseArgs } from 'node:util';

/** Thrown for a wrong command line: the CLI prints the problem and the usage and exits with 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `--help` was given: the CLI prints the usage and exits with 0. */
export class HelpRequested extends Error {
  constructor(readonly usage: string) {
    super('help');
    this.name = 'HelpRequested';
  }
}

export type OptionSpec = Record<string, { type: 'string' | 'boolean' }>;

type Values<O extends OptionSpec> = { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };

export interface Parsed<O extends OptionSpec> {
  values: Values<O>;
  positionals: string[];
}

/**
 * Parses `argv` strictly against `options`; `positionals` bounds how many positional arguments are allowed.
 * Every command accepts `--help`.
 */
export function parseCommandArgs<O extends OptionSpec>(argv: string[], options: O, usage: string, positionals: { min?: number; max?: number } = {}): Parsed<O> {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = nodeParseArgs({ args: argv, options: { ...options, help: { type: 'boolean' } }, strict: true, allowPositionals: true }) as typeof parsed;
  } catch (err) {
    throw new UsageError(cleanParseMessage(err), usage);
  }
  if (parsed.values.help) throw new HelpRequested(usage);
  const min = positionals.min ?? 0;
  const max = positionals.max ?? 0;
  if (parsed.positionals.length > max) {
    throw new UsageError(`unexpected argument${parsed.positionals.length - max > 1 ? 's' : ''}: ${parsed.positionals.slice(max).map((p) => JSON.stringify(p)).join(' ')}`, usage);
  }
  if (parsed.positionals.length < min) throw new UsageError('missing argument', usage);
  for (const [name, spec] of Object.entries(options)) {
    const v = parsed.values[name];
    if (spec.type === 'string' && typeof v === 'string' && v === '') throw new UsageError(`--${name} needs a value`, usage);
  }
  const { help: _help, ...values } = parsed.values;
  return { values: values as Values<O>, positionals: parsed.positionals };
}

/** node's messages end with advice about `--` that does not apply here; keep the part that names the flag. */
function cleanParseMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\. To specify a positional argument.*$/s, '').replace(/^Unknown option/, 'unknown option').replace(/^Option/, 'option');
}

/** An integer flag in [min, max], or `fallback` when absent; a usage error otherwise. */
export function intFlag(value: string | undefined, name: string, fallback: number, min: number, max: number, usage: string): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`, usage);
  return Number(value);
}

/** A path from the command line, made absolute against the caller's folder (never the engine's). */
export function pathFlag(value: string | undefined): string | undefined {
  return value === undefined ? undefined : resolve(process.cwd(), value);
}

/** A CLI subcommand: returns the process exit code (0 ok, 1 a problem found, 2 usage). */
export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}
