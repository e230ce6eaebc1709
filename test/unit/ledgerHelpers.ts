import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LedgerEntry } from '../../src/common/ledger/ledgerRecord';
import { FileLedgerWriter, type FileLedgerWriterOptions } from '../../src/node/ledger/fileLedgerWriter';

/** A fresh folder with a ledger path in it; removed by `cleanup`. */
export function tempLedger(): { dir: string; path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-ledger-'));
  return { dir, path: join(dir, '.hearth', 'ledger.jsonl'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes entries through the real writer and closes it. */
export async function writeLedger(path: string, entries: Iterable<LedgerEntry>, opts: Partial<FileLedgerWriterOptions> = {}): Promise<string[]> {
  const w = new FileLedgerWriter({ path, ...opts });
  const ids: string[] = [];
  for (const e of entries) ids.push(w.append(e));
  await w.close();
  return ids;
}

/** The writer script bundled by esbuild.config.mjs (scripts/ledgerWriter.ts). */
export const WRITER_SCRIPT = resolve(__dirname, '../../scripts/ledgerWriter.js');
