/**
 * Turns a file the editor names into the {@link FileRef} the policy judges: its workspace path and its real path
 * (symbolic links and `..` followed by the filesystem). A link `src/settings.txt → ../.env.production` is thus
 * judged as `.env.production` too, and a file whose real path is outside the workspace folder is marked so.
 */
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { FileRef } from '../../common/policy/decide';

/** Filesystems that ignore case by default (APFS, NTFS): an "inside the folder" test must fold case there. */
const CASE_INSENSITIVE = process.platform === 'darwin' || process.platform === 'win32';

const slashes = (p: string) => p.split(sep).join('/');

async function real(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch {
    // Not on disk (deleted since it was opened): judge the name as written, `..` resolved.
    return resolve(p);
  }
}

/** `child` relative to `folder` when inside it, else undefined. */
function inside(folder: string, child: string): string | undefined {
  const fold = (p: string) => (CASE_INSENSITIVE ? p.toLowerCase() : p);
  const rel = relative(fold(folder), fold(child));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return rel === '' ? '' : undefined;
  // Take the original spelling back from `child` (the folded one is only for the comparison).
  return child.slice(child.length - rel.length);
}

/**
 * The policy's view of `file`: `path` relative to `folder` as the editor names it (absolute when outside every
 * folder), and `real` its resolved path, relative to the folder's own resolved path when inside it.
 */
export async function resolveFileRef(folder: string | undefined, file: string): Promise<FileRef> {
  const named = resolve(file);
  const shown = folder ? inside(resolve(folder), named) : undefined;
  const realFile = await real(named);
  const realFolder = folder ? await real(folder) : undefined;
  const realRel = realFolder ? inside(realFolder, realFile) : undefined;
  return {
    path: shown !== undefined ? slashes(shown) : slashes(named),
    real: realRel !== undefined ? { path: slashes(realRel), outside: false } : { path: slashes(realFile), outside: true },
  };
}
