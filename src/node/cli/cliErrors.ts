/** Turns any failure into one line a CLI user can act on: the path and what to do, no stack trace. */
import { errorMessage } from '../../common/logger';

const ADVICE: Record<string, string> = {
  ENOENT: 'it does not exist; check the path',
  EACCES: 'permission denied; check its permissions',
  EPERM: 'operation not permitted; check its permissions',
  ENOSPC: 'the disk is full; free some space and run the command again',
  EDQUOT: 'the disk quota is exhausted; free some space and run the command again',
  EFBIG: 'the file is larger than this system or its limits (ulimit -f) allow; raise the limit or choose another place',
  EISDIR: 'it is a folder, not a file; give a file path',
  ENOTDIR: 'a part of the path is not a folder; check the path',
  EROFS: 'the file system is read-only; choose another place',
  EMFILE: 'too many open files; close some programs or raise the limit (ulimit -n)',
};

/** A message for `err`: node's system errors become "PATH: what happened; what to do". */
export function cliErrorMessage(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string' && ADVICE[e.code]) {
    const dest = (e as { dest?: string }).dest;
    const where = e.path ? `${dest ? `${e.path} → ${dest}` : e.path}: ` : '';
    return `${where}${ADVICE[e.code]} (${e.code})`;
  }
  if (err instanceof SyntaxError) return `${err.message} (the file is not valid JSON)`;
  return errorMessage(err);
}
