/**
 * The models directory: what is downloaded (matched to manifest ids by file name), whether each file was
 * verified by the downloader, interrupted downloads, deleting, and the path of an id.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findModel, type ModelEntry, type ModelManifest } from '../../common/models/modelManifest';
import { writeDataAtomic } from '../safeOutput';
import { modelFileName, PARTIAL_SUFFIX, VERIFIED_SUFFIX, type VerifiedRecord } from './modelDownloader';
import { isOpenVinoModelDir } from '../engine/backends/openVinoBackend';

/**
 * Where models live unless `--dir` or a setting says otherwise: `HEARTH_MODELS_DIR`, else the platform's
 * per-user data folder (models are big and worth keeping across editor reinstalls, unlike caches).
 */
export function defaultModelsDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.HEARTH_MODELS_DIR) return env.HEARTH_MODELS_DIR;
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'Hearth', 'models');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Hearth', 'models');
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'hearth', 'models');
}

export interface StoredModel {
  /** The manifest id, or null for a file the manifest does not know. */
  id: string | null;
  entry: ModelEntry | null;
  path: string;
  format: 'gguf' | 'openvino-ir';
  sizeBytes: number;
  /**
   * Its SHA-256 matched the downloader's record: checked at download, and again (by `list({ hashCheck: true })`)
   * whenever the file's size or mtime differs from when it was last hashed.
   */
  verified: boolean;
  /** Why it is not verified, when it is a download whose record no longer matches. */
  unverifiedReason?: string;
  /** The hash it was verified against came from the manifest, the server, or nothing. */
  verifiedBy: VerifiedRecord['verifiedBy'] | null;
  /** An interrupted download (`<file>.partial`): resumable, not usable. */
  partial: boolean;
}

export class ModelStore {
  constructor(
    readonly dir: string,
    private readonly manifest: ModelManifest | null = null,
  ) {}

  /**
   * Everything in the directory: complete models first (by name), then interrupted downloads. With `hashCheck`,
   * a file whose size or mtime changed since it was last hashed is hashed again (and the result cached in its
   * record); without it, such a file is reported as not verified.
   */
  async list(opts: { hashCheck?: boolean } = {}): Promise<StoredModel[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: StoredModel[] = [];
    for (const name of names.sort()) {
      const path = join(this.dir, name);
      const info = await stat(path).catch(() => null);
      if (!info) continue;
      if (info.isDirectory()) {
        if (await isOpenVinoModelDir(path)) out.push(this.describe(name, path, 'openvino-ir', await dirSize(path), null, false));
        continue;
      }
      if (name.endsWith('.gguf')) {
        const record = await readRecord(path + VERIFIED_SUFFIX);
        let verified = record !== null && record.sizeBytes === info.size && record.mtimeMs === info.mtimeMs;
        let reason: string | undefined;
        if (record && !verified) {
          if (record.sizeBytes !== info.size) reason = `size changed since download (${record.sizeBytes} → ${info.size} bytes)`;
          else if (opts.hashCheck) {
            verified = (await sha256File(path)) === record.sha256;
            if (verified) await writeDataAtomic(path + VERIFIED_SUFFIX, JSON.stringify({ ...record, mtimeMs: info.mtimeMs }, null, 2) + '\n').catch(() => undefined);
            else reason = 'its SHA-256 no longer matches the download: the file was changed or damaged; delete and download it again';
          } else reason = 'changed since it was verified (run `hearth models list` to check its hash)';
        }
        const m = this.describe(name.slice(0, -'.gguf'.length), path, 'gguf', info.size, verified ? record : null, false);
        if (reason) m.unverifiedReason = reason;
        out.push(m);
      } else if (name.endsWith('.gguf' + PARTIAL_SUFFIX)) {
        out.push(this.describe(name.slice(0, -('.gguf' + PARTIAL_SUFFIX).length), path, 'gguf', info.size, null, true));
      }
    }
    return out.sort((a, b) => Number(a.partial) - Number(b.partial));
  }

  private describe(stem: string, path: string, format: StoredModel['format'], sizeBytes: number, record: VerifiedRecord | null, partial: boolean): StoredModel {
    const entry = this.manifest ? findModel(this.manifest, stem) ?? null : null;
    return {
      id: entry ? entry.id : null,
      entry,
      path,
      format,
      sizeBytes,
      verified: record !== null,
      verifiedBy: record?.verifiedBy ?? null,
      partial,
    };
  }

  /** The path of a complete downloaded model, or undefined when it is not here. */
  async resolvePath(id: string): Promise<string | undefined> {
    const file = join(this.dir, modelFileName({ id }));
    if (await exists(file)) return file;
    const ovDir = join(this.dir, id);
    if (await isOpenVinoModelDir(ovDir)) return ovDir;
    return undefined;
  }

  /** Deletes a model, its verification record and any interrupted download of it. False when nothing was there. */
  async delete(id: string): Promise<boolean> {
    if (!/^[a-z0-9][a-z0-9._-]*$/i.test(id) || id.includes('..')) throw new Error(`"${id}" is not a model id`);
    const file = join(this.dir, modelFileName({ id }));
    const targets = [file, file + VERIFIED_SUFFIX, file + PARTIAL_SUFFIX, file + PARTIAL_SUFFIX + '.json'];
    let found = false;
    for (const t of targets) {
      if (await exists(t)) {
        found = true;
        await rm(t, { force: true });
      }
    }
    const ovDir = join(this.dir, id);
    if (await isOpenVinoModelDir(ovDir)) {
      found = true;
      await rm(ovDir, { recursive: true, force: true });
    }
    return found;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function readRecord(path: string): Promise<VerifiedRecord | null> {
  try {
    const r = JSON.parse(await readFile(path, 'utf8')) as Partial<VerifiedRecord>;
    return typeof r.sizeBytes === 'number' && typeof r.sha256 === 'string' ? (r as VerifiedRecord) : null;
  } catch {
    return null;
  }
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) {
    const s = await stat(join(dir, name)).catch(() => null);
    if (s?.isFile()) total += s.size;
  }
  return total;
}
