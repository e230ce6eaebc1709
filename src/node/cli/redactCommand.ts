import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readSync, statSync, type Dirent } from 'node:fs';
import { join, relative } from 'node:path';
import { createRedactor, RedactionConfigError, RedactionSession } from '../../common/redaction';
import { OutputTree } from '../safeOutput';
import { parseCommandArgs, pathFlag, UsageError, type CliCommand } from './args';

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

type WalkItem = { kind: 'file'; path: string } | { kind: 'problem'; path: string; reason: string } | { kind: 'link'; path: string };

/** Walks the tree without following symlinks; a folder that cannot be read is reported, and the walk goes on. */
function* walk(dir: string): Generator<WalkItem> {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    yield { kind: 'problem', path: dir, reason: `folder not readable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
    return;
  }
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = join(dir, entry.name);
    if (entry.isSymbolicLink()) yield { kind: 'link', path: p };
    else if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) yield* walk(p);
    } else if (entry.isFile()) yield { kind: 'file', path: p };
  }
}

/** Reads a file of at most `max` bytes, checking the size from the open descriptor (never reads a big file whole). */
function readBounded(path: string, max: number): { ok: true; buf: Buffer } | { ok: false; reason: string } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    return { ok: false, reason: `not readable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  try {
    const size = fstatSync(fd).size;
    if (size > max) return { ok: false, reason: `too large (${(size / 1024 / 1024).toFixed(1)} MiB; the limit is ${max / 1024 / 1024} MiB)` };
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return { ok: true, buf: buf.subarray(0, off) };
  } catch (err) {
    return { ok: false, reason: `not readable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  } finally {
    closeSync(fd);
  }
}

const USAGE = 'hearth redact --in DIR --out DIR [--replace] [--disable CATEGORY,...]';

export const redactCommand: CliCommand = {
  name: 'redact',
  summary: 'write a redacted copy of a tree for review (secrets and personal data become numbered placeholders); counts by category go to stderr, never values. The copy appears whole or not at all; --out must be new or empty unless --replace',
  usage: USAGE,
  async run(argv) {
    const { values } = parseCommandArgs(argv, { in: { type: 'string' }, out: { type: 'string' }, disable: { type: 'string' }, replace: { type: 'boolean' } }, USAGE);
    if (!values.in || !values.out) throw new UsageError(`${!values.in ? '--in' : '--out'} is required`, USAGE);
    const inDir = pathFlag(values.in)!;
    const outDir = pathFlag(values.out)!;
    if (!statSync(inDir, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--in ${values.in}: not a folder (${inDir})`, USAGE);
    const disabled = (values.disable ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    let redactor;
    try {
      redactor = createRedactor({ disabledCategories: disabled });
    } catch (err) {
      if (err instanceof RedactionConfigError) throw new UsageError(`--disable: ${err.message}`, USAGE);
      throw err;
    }
    const tree = await OutputTree.create(outDir, { inputs: [{ path: inDir, label: '--in' }], replace: values.replace === true, label: `--out ${values.out}` });
    // One session for the whole tree: the same secret gets the same placeholder in every file.
    const session = new RedactionSession();
    const totals: Record<string, number> = {};
    let written = 0, binary = 0, changed = 0, links = 0;
    const problems: string[] = [];
    try {
      for (const item of walk(inDir)) {
        const rel = relative(inDir, item.path);
        if (item.kind === 'link') { links++; continue; }
        if (item.kind === 'problem') { problems.push(`${item.path}: ${item.reason}`); continue; }
        // lstat again: the entry may have changed since it was listed (never follow a link swapped in).
        if (!lstatSync(item.path, { throwIfNoEntry: false })?.isFile()) { links++; continue; }
        const read = readBounded(item.path, MAX_FILE_BYTES);
        if (!read.ok) { problems.push(`${item.path}: ${read.reason}`); continue; }
        if (isBinary(read.buf)) { binary++; continue; }
        const result = redactor.redact(read.buf.toString('utf8'), { fileName: rel, session });
        await tree.writeFile(rel, result.text);
        written++;
        if (result.findings.length > 0) changed++;
        for (const [category, n] of Object.entries(result.countsByCategory)) totals[category] = (totals[category] ?? 0) + n;
      }
      await tree.commit();
    } catch (err) {
      await tree.abort();
      throw err;
    }
    for (const p of problems) process.stderr.write(`skipped ${p}\n`);
    const lines = Object.entries(totals).sort((a, b) => b[1] - a[1]).map(([c, n]) => `  ${c.padEnd(28)} ${n}`);
    process.stderr.write(`hearth redact: ${written} files written to ${tree.root} (${changed} with redactions), ${binary} binary skipped, ${links} symlink(s) not followed, ${session.size} distinct values replaced\n${lines.join('\n')}${lines.length ? '\n' : ''}`);
    if (problems.length) {
      process.stderr.write(`hearth redact: ${problems.length} file(s) or folder(s) could not be redacted and are NOT in the copy (listed above); exit 1\n`);
      return 1;
    }
    return 0;
  },
};
