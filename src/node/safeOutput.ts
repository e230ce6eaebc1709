/**
 * Every file Hearth writes for a user (ledger exports, a redacted tree, a downloaded model's record) goes through
 * here, so one set of rules holds everywhere:
 * - a file is written to a temporary file in its target folder and renamed into place: a failed or interrupted
 *   command leaves the old file (or nothing), never half a file;
 * - nothing is written to a path whose real path is an input, or lies inside an input folder (an export over its
 *   own ledger, a redacted copy inside the tree it copies);
 * - below an output root no symlink is followed: every component is created by us (lstat, exclusive create);
 * - a non-empty output folder is replaced only when the caller asked for it, and then as a whole.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, rmdir, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Writable } from 'node:stream';

/** A refused output (it would overwrite an input, or needs `--replace`): the command's fault, not the disk's. */
export class OutputRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputRefusedError';
  }
}

/**
 * The real path of `p` even when it does not exist yet: the real path of its nearest existing ancestor, with the
 * missing components appended. Symlinks in the existing part are resolved (that is where a write would land).
 */
export function realPathOf(p: string): string {
  const abs = resolve(p);
  const missing: string[] = [];
  for (let cur = abs; ; cur = dirname(cur)) {
    try {
      return join(realpathSync(cur), ...missing.reverse());
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      if (dirname(cur) === cur) return abs;
      missing.push(basename(cur));
    }
  }
}

/** `child` is `parent` or lies below it (both real, absolute paths). */
export function isSameOrInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}

/** What a command reads: a file, or a folder whose whole tree is input. */
export interface OutputInput {
  path: string;
  /** A short name for messages, e.g. `--in` or `the ledger`. */
  label: string;
}

/** Throws {@link OutputRefusedError} when writing `target` could change any input. */
export function assertNotInput(target: string, inputs: readonly OutputInput[], targetLabel = target): void {
  const realTarget = realPathOf(target);
  const targetStat = statSync(realTarget, { throwIfNoEntry: false });
  for (const input of inputs) {
    const realInput = realPathOf(input.path);
    const inStat = statSync(realInput, { throwIfNoEntry: false });
    if (isSameOrInside(realTarget, realInput)) {
      throw new OutputRefusedError(`${targetLabel} is ${realTarget === realInput ? '' : 'inside '}${input.label} (${realInput}); Hearth never writes over what it reads. Choose an output outside it.`);
    }
    // A hard link to an input is the input, whatever its name.
    if (targetStat && inStat && targetStat.isFile() && targetStat.dev === inStat.dev && targetStat.ino === inStat.ino) {
      throw new OutputRefusedError(`${targetLabel} is the same file as ${input.label} (${input.path}); Hearth never writes over what it reads. Choose another output file.`);
    }
  }
}

function tempName(base: string, tag: string): string {
  return `.${base}.hearth-${tag}-${randomBytes(6).toString('hex')}`;
}

/**
 * Writes `target` atomically: `produce` writes into a temporary file in the target's folder (created
 * exclusively), which is synced and renamed over `target` only when `produce` resolves. On any failure the
 * temporary file is removed and `target` is as it was. Refuses targets that are (or lie inside) an input.
 */
export async function writeFileAtomic<T>(target: string, produce: (out: Writable) => Promise<T>, opts: { inputs?: readonly OutputInput[]; label?: string } = {}): Promise<T> {
  const label = opts.label ?? target;
  assertNotInput(target, opts.inputs ?? [], label);
  const real = realPathOf(target);
  const dir = dirname(real);
  const dirStat = statSync(dir, { throwIfNoEntry: false });
  if (!dirStat?.isDirectory()) throw new OutputRefusedError(`${label}: the folder ${dir} does not exist; create it first or choose another path.`);
  const existing = lstatSync(real, { throwIfNoEntry: false });
  if (existing?.isDirectory()) throw new OutputRefusedError(`${label} is a folder; give a file name.`);
  const tmp = join(dir, tempName(basename(real), 'tmp'));
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, 'wx', 0o644);
    const handle = fh;
    const stream = new Writable({
      highWaterMark: 1 << 20,
      write(chunk: Buffer, _enc, cb) {
        handle.write(chunk).then(() => cb(), cb);
      },
    });
    const failed = new Promise<never>((_, reject) => stream.once('error', reject));
    failed.catch(() => undefined);
    const run = async () => {
      const result = await produce(stream);
      stream.end();
      await new Promise<void>((res, rej) => stream.once('finish', res).once('error', rej));
      return result;
    };
    const result = await Promise.race([run(), failed]);
    await handle.sync();
    await handle.close();
    fh = undefined;
    await rename(tmp, real);
    return result;
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** {@link writeFileAtomic} for data already in memory. */
export async function writeDataAtomic(target: string, data: string | Uint8Array, opts: { inputs?: readonly OutputInput[]; label?: string } = {}): Promise<void> {
  await writeFileAtomic(target, async (out) => {
    await new Promise<void>((res, rej) => out.write(data, (err) => (err ? rej(err) : res())));
  }, opts);
}

/**
 * An output folder built whole: files go into a fresh staging folder beside it (every component created by us,
 * no symlink followed), and {@link commit} swaps it into place. Until then the old output, if any, is untouched;
 * {@link abort} (or a crash) leaves only a hidden staging folder, never a half-written output.
 */
export class OutputTree {
  private committed = false;
  private readonly madeDirs = new Set<string>();

  private constructor(
    /** Real path of the output folder. */
    readonly root: string,
    private readonly staging: string,
    private readonly replaceExisting: boolean,
  ) {}

  /**
   * Checks `outDir` against the inputs (neither may contain the other) and whether it may be replaced: a
   * non-empty existing folder needs `replace`. Creates the staging folder.
   */
  static async create(outDir: string, opts: { inputs: readonly OutputInput[]; replace: boolean; label?: string }): Promise<OutputTree> {
    const label = opts.label ?? outDir;
    const root = realPathOf(outDir);
    for (const input of opts.inputs) {
      const realInput = realPathOf(input.path);
      if (isSameOrInside(root, realInput)) throw new OutputRefusedError(`${label} (${root}) is ${root === realInput ? '' : 'inside '}${input.label} (${realInput}); Hearth never writes into what it reads. Choose an output folder outside it.`);
      if (isSameOrInside(realInput, root)) throw new OutputRefusedError(`${label} (${root}) contains ${input.label} (${realInput}); replacing it would delete the input. Choose an output folder outside it.`);
    }
    const st = await lstat(root).catch(() => undefined);
    let replace = false;
    if (st) {
      if (!st.isDirectory()) throw new OutputRefusedError(`${label} (${root}) exists and is not a folder; choose a folder path.`);
      if ((await readdir(root)).length > 0) {
        if (!opts.replace) throw new OutputRefusedError(`${label} (${root}) is not empty; choose an empty or new folder, or pass --replace to replace its contents.`);
        replace = true;
      }
    }
    const parent = dirname(root);
    await mkdir(parent, { recursive: true });
    const staging = join(parent, tempName(basename(root), 'staging'));
    await mkdir(staging, { mode: 0o755 }); // fails if it exists: the folder is ours alone
    return new OutputTree(root, staging, replace);
  }

  /** Creates the folders of `rel` under the staging root one by one, refusing anything that is not our folder. */
  private async ensureDir(relDir: string): Promise<string> {
    let cur = this.staging;
    if (relDir === '' || relDir === '.') return cur;
    for (const part of relDir.split(/[\\/]+/)) {
      if (part === '' || part === '.' || part === '..') throw new OutputRefusedError(`refusing output path component "${part}" in ${relDir}`);
      cur = join(cur, part);
      if (this.madeDirs.has(cur)) continue;
      try {
        await mkdir(cur);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const st = await lstat(cur);
        if (!st.isDirectory() || st.isSymbolicLink()) throw new OutputRefusedError(`${cur} is not a folder Hearth made (a symlink or file); not writing through it`);
      }
      this.madeDirs.add(cur);
    }
    return cur;
  }

  /** Writes one file at `rel` (relative, no `..`) below the output root; created exclusively, never through a link. */
  async writeFile(rel: string, data: string | Uint8Array): Promise<void> {
    if (isAbsolute(rel) || rel.split(/[\\/]+/).includes('..')) throw new OutputRefusedError(`refusing output path ${rel}: it leaves the output folder`);
    const dir = await this.ensureDir(dirname(rel));
    const fh = await open(join(dir, basename(rel)), 'wx', 0o644);
    try {
      await fh.writeFile(data);
    } finally {
      await fh.close();
    }
  }

  /** Swaps the staging folder into place (replacing the old output when allowed). */
  async commit(): Promise<void> {
    if (this.committed) return;
    if (this.replaceExisting) {
      const old = join(dirname(this.root), tempName(basename(this.root), 'old'));
      await rename(this.root, old);
      try {
        await rename(this.staging, this.root);
      } catch (err) {
        await rename(old, this.root).catch(() => undefined);
        throw err;
      }
      await rm(old, { recursive: true, force: true });
    } else {
      // An empty folder at the root (allowed) is removed first so the rename can take its place.
      const st = await lstat(this.root).catch(() => undefined);
      if (st?.isDirectory()) await rmdir(this.root);
      await rename(this.staging, this.root);
    }
    this.committed = true;
  }

  /** Removes the staging folder; the output stays as it was before the command. */
  async abort(): Promise<void> {
    if (this.committed) return;
    await rm(this.staging, { recursive: true, force: true }).catch(() => undefined);
  }
}
