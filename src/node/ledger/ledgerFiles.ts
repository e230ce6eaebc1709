/**
 * Where the ledger's segments live and how they are read: `ledger.jsonl` is the active segment; rotation renames
 * it to `ledger.N.jsonl` with N one above the highest (so `ledger.1.jsonl` is the oldest and no file is ever
 * renamed twice). Readers stream the segments oldest first, in chunks, never the whole file.
 */
import { readdirSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';

/** Default location, relative to the workspace folder (the policy may move it). */
export const DEFAULT_LEDGER_PATH = join('.hearth', 'ledger.jsonl');

/** Where the `hearth.ledger.path` setting points, or why it was not honoured (the default is used then). */
export interface ResolvedLedgerPath {
  path: string;
  warning?: string;
}

/**
 * Resolves the ledger location of a workspace folder from the setting. Relative values are under the folder.
 * A value from the workspace itself (`fromWorkspace`: `.vscode/settings.json`, a repo anyone can write) must stay
 * inside the folder: otherwise a cloned repository could make Hearth append lines to any file the user can write.
 * The name must end in `.jsonl`, for the same reason and so rotation can number the segments.
 */
export function resolveLedgerPath(folder: string, value: string | undefined, fromWorkspace: boolean): ResolvedLedgerPath {
  const fallback = join(folder, DEFAULT_LEDGER_PATH);
  const v = (value ?? '').trim();
  if (!v) return { path: fallback };
  if (!v.endsWith('.jsonl')) return { path: fallback, warning: `hearth.ledger.path "${v}" does not end in .jsonl; using ${DEFAULT_LEDGER_PATH}` };
  const p = resolve(folder, v);
  const rel = relative(folder, p);
  const inside = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  if (fromWorkspace && !inside) {
    return { path: fallback, warning: `hearth.ledger.path "${v}" from the workspace settings points outside the folder; only User settings may do that. Using ${DEFAULT_LEDGER_PATH}` };
  }
  return { path: p };
}

/** `ledger.jsonl` → `ledger.3.jsonl`. */
export function segmentPath(ledgerPath: string, n: number): string {
  const ext = extname(ledgerPath);
  return join(dirname(ledgerPath), `${basename(ledgerPath, ext)}.${n}${ext}`);
}

function segmentNumbers(ledgerPath: string, names: string[]): number[] {
  const ext = extname(ledgerPath);
  const stem = basename(ledgerPath, ext);
  const re = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)${ext.replace(/\./g, '\\.')}$`);
  return names.map((n) => re.exec(n)).filter((m): m is RegExpExecArray => !!m).map((m) => Number(m[1])).sort((a, b) => a - b);
}

/** Numbers of the rotated segments, ascending (oldest first). */
export async function rotatedSegments(ledgerPath: string): Promise<number[]> {
  try {
    return segmentNumbers(ledgerPath, await readdir(dirname(ledgerPath)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** {@link rotatedSegments}, for the writer's critical section. */
export function rotatedSegmentsSync(ledgerPath: string): number[] {
  try {
    return segmentNumbers(ledgerPath, readdirSync(dirname(ledgerPath)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Every segment file, oldest first, ending with the active one (which may not exist yet). */
export async function segmentFiles(ledgerPath: string): Promise<string[]> {
  return [...(await rotatedSegments(ledgerPath)).map((n) => segmentPath(ledgerPath, n)), ledgerPath];
}

export interface LedgerLine {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  text: string;
  /** False only for a last line with no newline: an incomplete (torn) write. */
  terminated: boolean;
}

const CHUNK = 1 << 20;

/**
 * Streams the lines of all segments, oldest first, in batches (one per chunk read), so a consumer can await
 * between batches (backpressure) and memory stays at about one chunk. Missing segments are skipped.
 */
export async function* readLedgerLines(ledgerPath: string): AsyncGenerator<LedgerLine[]> {
  for (const file of await segmentFiles(ledgerPath)) yield* readFileLines(file);
}

/** Streams one file's lines in batches; a file that does not exist yields nothing. */
export async function* readFileLines(file: string): AsyncGenerator<LedgerLine[]> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let carry: Buffer | undefined;
    let lineNo = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      const data = carry ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
      const batch: LedgerLine[] = [];
      let start = 0;
      for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
        batch.push({ file, line: ++lineNo, text: data.toString('utf8', start, nl), terminated: true });
        start = nl + 1;
      }
      // The carried tail is copied: `buf` is reused by the next read.
      carry = start < data.length ? Buffer.from(data.subarray(start)) : undefined;
      if (batch.length) yield batch;
    }
    if (carry && carry.length) yield [{ file, line: ++lineNo, text: carry.toString('utf8'), terminated: false }];
  } finally {
    await fh.close();
  }
}
