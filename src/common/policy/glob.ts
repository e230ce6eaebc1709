/**
 * Glob patterns of the policy file, matched against workspace-relative paths with `/` separators. Small and
 * pure on purpose (the policy runs in `src/common`). Supported: `*` (within a segment), `**` (any number of
 * segments), `?`, `[abc]` / `[!abc]`, `{a,b}`. Matching is case-insensitive and `*` also matches names that start
 * with a dot: a stricter match can only block more. A pattern without `/` matches a file or folder name at any
 * depth, as in `.gitignore`; a pattern that matches a folder matches everything inside it.
 */

/** Thrown for a pattern that cannot be compiled (unbalanced `[` or `{`). */
export class GlobError extends Error {}

function escapeRegex(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}

/** Translates one pattern (without the any-depth and folder rules) to a regex source. */
function translate(glob: string): string {
  let out = '';
  let i = 0;
  let braces = 0;
  while (i < glob.length) {
    const ch = glob[i]!;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        const atStart = i === 0 || glob[i - 1] === '/';
        let j = i;
        while (glob[j] === '*') j++;
        const atEnd = j === glob.length || glob[j] === '/';
        if (atStart && atEnd) {
          if (glob[j] === '/') {
            out += '(?:[^/]*/)*'; // `**/`: zero or more whole segments
            i = j + 1;
          } else {
            out += '.*';
            i = j;
          }
          continue;
        }
        out += '[^/]*';
        i = j;
        continue;
      }
      out += '[^/]*';
    } else if (ch === '?') {
      out += '[^/]';
    } else if (ch === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) throw new GlobError(`unclosed "[" in "${glob}"`);
      let body = glob.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^/' : ''}${body.replace(/[\\\]^]/g, (c) => `\\${c}`)}]`;
      i = close;
    } else if (ch === '{') {
      braces++;
      out += '(?:';
    } else if (ch === '}' && braces > 0) {
      braces--;
      out += ')';
    } else if (ch === ',' && braces > 0) {
      out += '|';
    } else if (ch === '\\' && i + 1 < glob.length) {
      out += escapeRegex(glob[++i]!);
    } else {
      out += escapeRegex(ch);
    }
    i++;
  }
  if (braces > 0) throw new GlobError(`unclosed "{" in "${glob}"`);
  return out;
}

/** Compiles a policy glob; throws {@link GlobError} when it is malformed. */
export function compileGlob(pattern: string): RegExp {
  let p = pattern.trim().replace(/\\(?![*?[\]{},\\])/g, '/');
  if (p.startsWith('./')) p = p.slice(2);
  if (p.endsWith('/')) p = p.slice(0, -1);
  if (!p) throw new GlobError('an empty pattern matches nothing');
  const anywhere = !p.includes('/');
  if (p.startsWith('/')) p = p.slice(1);
  const body = translate(p);
  return new RegExp(`^${anywhere ? '(?:.*/)?' : ''}(?:${body})(?:/.*)?$`, 'is');
}

/**
 * Normalises a path for matching: `/` separators, no leading `./` or `/`, no drive letter, `.` and `..` segments
 * resolved (so `src/../.env` is judged as `.env`; a `..` that climbs above the start stays, and marks a path
 * outside the workspace).
 */
export function normalizePath(path: string): string {
  const flat = path.replace(/\\/g, '/').replace(/^[a-zA-Z]:\//, '').replace(/^(\.\/|\/)+/, '');
  if (!/(^|\/)\.{1,2}(\/|$)|\/\//.test(flat)) return flat;
  const out: string[] = [];
  for (const seg of flat.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else out.push(seg);
  }
  return out.join('/');
}

/** Whether `pattern` matches `path` (see the module comment for the rules). */
export function globMatches(pattern: string, path: string): boolean {
  return compileGlob(pattern).test(normalizePath(path));
}
