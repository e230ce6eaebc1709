import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { createRedactor, RedactionSession } from '../../common/redaction';
import { parseArgs, UsageError, type CliCommand } from './args';

/** Files larger than this are skipped: redaction is for review payloads, not build artefacts. */
const MAX_FILE_BYTES = 8 * 1024 * 1024;
const SKIP_DIRS = new Set(['.git', '.hg', '.svn', 'node_modules']);

/** A file is binary when its first 8 KB hold a NUL byte or are not valid UTF-8. */
function isBinary(buf: Buffer): boolean {
  const head = buf.subarray(0, 8192);
  if (head.includes(0)) return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.length < buf.length ? head.subarray(0, lastCompleteUtf8(head)) : head);
    return false;
  } catch {
    return true;
  }
}

/** Length of `buf` without a trailing, cut-off UTF-8 sequence. */
function lastCompleteUtf8(buf: Buffer): number {
  let i = buf.length - 1;
  let back = 0;
  while (i >= 0 && back < 4 && (buf[i]! & 0xc0) === 0x80) { i--; back++; }
  if (i < 0) return buf.length;
  const lead = buf[i]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return need > back + 1 ? i : buf.length;
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) yield* walk(p);
    } else if (entry.isFile()) yield p;
  }
}

export const redactCommand: CliCommand = {
  name: 'redact',
  summary: 'write a redacted copy of a tree for review (secrets and personal data become numbered placeholders); counts by category go to stderr, never values',
  usage: 'hearth redact --in DIR --out DIR [--disable CATEGORY,...]',
  async run(argv) {
    const { flags } = parseArgs(argv);
    const input = flags.get('in');
    const output = flags.get('out');
    if (!input || !output) throw new UsageError(this.usage);
    const inDir = resolve(input);
    const outDir = resolve(output);
    if (!statSync(inDir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`--in ${input}: not a directory`);
    if (outDir === inDir || outDir.startsWith(inDir + sep)) throw new Error('--out must be outside --in');
    const disabled = (flags.get('disable') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const redactor = createRedactor({ disabledCategories: disabled });
    // One session for the whole tree: the same secret gets the same placeholder in every file.
    const session = new RedactionSession();
    const totals: Record<string, number> = {};
    let written = 0, skipped = 0, changed = 0;
    for (const file of walk(inDir)) {
      const rel = relative(inDir, file);
      const buf = readFileSync(file);
      if (buf.length > MAX_FILE_BYTES || isBinary(buf)) { skipped++; continue; }
      const result = redactor.redact(buf.toString('utf8'), { fileName: rel, session });
      const target = join(outDir, rel);
      mkdirSync(join(target, '..'), { recursive: true });
      writeFileSync(target, result.text);
      written++;
      if (result.findings.length > 0) changed++;
      for (const [category, n] of Object.entries(result.countsByCategory)) totals[category] = (totals[category] ?? 0) + n;
    }
    const lines = Object.entries(totals).sort((a, b) => b[1] - a[1]).map(([c, n]) => `  ${c.padEnd(28)} ${n}`);
    process.stderr.write(`hearth redact: ${written} files written (${changed} with redactions), ${skipped} binary or oversized skipped, ${session.size} distinct values replaced\n${lines.join('\n')}${lines.length ? '\n' : ''}`);
    return 0;
  },
};
