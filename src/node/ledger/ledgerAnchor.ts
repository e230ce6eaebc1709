/**
 * The ledger's head anchored outside the ledger: after every write, the writer (extension or CLI, whichever)
 * records the last record's seq and hash in a per-user state file keyed by the ledger's real path. The hash
 * chain proves nothing inside the ledger was changed; the anchor proves nothing was cut from its end and the
 * last record was not rewritten, which the chain alone cannot (a shortened chain is still a valid chain).
 * `hearth ledger verify` finds the anchor by the ledger's path, with no flags.
 *
 * Limit (documented in the README): someone who can rewrite both the ledger and this file can hide a change.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { realPathOf } from '../safeOutput';

const anchorSchema = z.object({
  ledger: z.string(),
  /** Seq of the last record written. */
  seq: z.number().int().min(0),
  /** Hash of that record's stored line (what the next record's prevHash will be). */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  /** The segment file it was written to. */
  segment: z.string(),
  time: z.string(),
  /**
   * Set when a writer found the ledger shorter than (or different from) its anchor: the loss stays reported
   * until someone acknowledges it with `hearth ledger verify --accept-loss`, even after new records are written.
   */
  lost: z.object({ seq: z.number().int(), hash: z.string(), time: z.string(), message: z.string() }).optional(),
});

export type LedgerAnchor = z.infer<typeof anchorSchema>;

/** Per-user folder of anchors: `HEARTH_STATE_DIR`, else the platform's per-user state folder. */
export function anchorDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.HEARTH_STATE_DIR) return join(env.HEARTH_STATE_DIR, 'ledger-anchors');
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'Hearth', 'ledger-anchors');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Hearth', 'ledger-anchors');
  return join(env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'hearth', 'ledger-anchors');
}

/** The anchor file of a ledger, keyed by the ledger's real path (so `./x` and a symlink name the same anchor). */
export function anchorPathFor(ledgerPath: string, dir = anchorDir()): string {
  const real = realPathOf(ledgerPath);
  return join(dir, `${createHash('sha256').update(real).digest('hex').slice(0, 32)}.json`);
}

export type AnchorRead = { kind: 'none' } | { kind: 'ok'; path: string; anchor: LedgerAnchor } | { kind: 'unreadable'; path: string; message: string };

/** Reads a ledger's anchor; a damaged anchor file is reported, never taken as "no anchor". */
export function readAnchor(ledgerPath: string, dir = anchorDir()): AnchorRead {
  const path = anchorPathFor(ledgerPath, dir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    return { kind: 'unreadable', path, message: `${path}: ${(err as Error).message}` };
  }
  try {
    const parsed = anchorSchema.safeParse(JSON.parse(text));
    if (parsed.success) return { kind: 'ok', path, anchor: parsed.data };
    return { kind: 'unreadable', path, message: `${path} is not a ledger anchor (${parsed.error.issues[0]?.message ?? 'invalid'})` };
  } catch {
    return { kind: 'unreadable', path, message: `${path} is not valid JSON` };
  }
}

/** Writes the anchor atomically (temp file + rename, synced). Throws on failure; the writer logs it. */
export function writeAnchorSync(ledgerPath: string, anchor: Omit<LedgerAnchor, 'ledger'>, dir = anchorDir()): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = anchorPathFor(ledgerPath, dir);
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const data = Buffer.from(JSON.stringify({ ledger: realPathOf(ledgerPath), ...anchor }, null, 2) + '\n');
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Forgets a recorded loss (the user acknowledged it); the anchor itself stays. */
export function clearAnchorLoss(ledgerPath: string, dir = anchorDir()): boolean {
  const r = readAnchor(ledgerPath, dir);
  if (r.kind !== 'ok' || !r.anchor.lost) return false;
  const { lost: _lost, ledger: _ledger, ...rest } = r.anchor;
  writeAnchorSync(ledgerPath, rest, dir);
  return true;
}
