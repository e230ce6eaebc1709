/**
 * Passwords passed as command-line arguments: `mysql -u root -pS3cret` (the glued `-p` of the MySQL and MariaDB
 * clients), `sshpass -p secret ssh …`, `redis-cli -a secret`, `curl -u user:secret` / `--user user:secret` (the
 * part after the colon). Only the value is replaced; `--password value` stays with the assignment detector.
 *
 * Commands turn up in shell scripts, Dockerfile RUN lines, CI steps, READMEs and strings in code that run them, so
 * the reader is a small hand-written shell-word scanner over one command (up to a newline that is not continued, or
 * `;`, `|`, `&`), not a shell parser.
 */
import { isPlaceholder, isReference } from './valueChecks';
import { PRIORITY, type Detector, type Emit, type ScanContext } from './detector';

/** Command names; the character before must not continue a name, the one after must be a space or tab. */
const COMMANDS = /mysql[a-z]*|mariadb(?:-[a-z]+)?|sshpass|redis-cli|curl/g;

const MYSQL_CLIENTS = new Set([
  'mysql', 'mysqldump', 'mysqladmin', 'mysqlimport', 'mysqlcheck', 'mysqlshow', 'mysqlpump', 'mysqlslap', 'mysqlbinlog',
  'mariadb', 'mariadb-dump', 'mariadb-admin', 'mariadb-import', 'mariadb-check', 'mariadb-show', 'mariadb-slap', 'mariadb-binlog',
]);

const COMMAND_NAMES = new Set([...MYSQL_CLIENTS, 'sshpass', 'redis-cli', 'curl']);

/** Options of sshpass that take an argument, so the argument is not mistaken for the wrapped command. */
const SSHPASS_ARGS = new Set(['-f', '-d', '-P']);

/** A word of the command: [start, end) holds its text, quotes included. */
interface Word { start: number; end: number }

/** [A-Za-z0-9_.-]: characters that would make the match part of a longer name or path segment. */
function continuesName(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45;
}

/** Where the quote at `i` closes on its line (a backslash escapes inside double quotes), or -1. */
function closingQuote(text: string, i: number, limit: number): number {
  const q = text[i];
  for (let j = i + 1; j < limit; j++) {
    const c = text[j];
    if (c === q) return j;
    if (c === '\n') return -1;
    if (c === '\\' && q === '"') j++;
  }
  return -1;
}

const isBlank = (c: string | undefined) => c === ' ' || c === '\t';
const endsWord = (c: string | undefined) => c === undefined || c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ';' || c === '|' || c === '&' || c === ')' || c === '`' || c === '<' || c === '>';

/**
 * The words of the command that starts at `i`, up to 64 of them. A quote glued to a word joins it only when the quoted part closes
 * on the line and a word boundary follows (`-p'a b'`); otherwise it is the end of a string in code that holds the
 * command (`exec("mysql -pX")`), and so the end of the command.
 */
function commandWords(text: string, i: number): Word[] {
  const words: Word[] = [];
  const limit = Math.min(text.length, i + 2048);
  while (i < limit && words.length < 64) {
    while (i < limit && isBlank(text[i])) i++;
    if (text[i] === '\\' && (text[i + 1] === '\n' || (text[i + 1] === '\r' && text[i + 2] === '\n'))) { // continued line
      i += text[i + 1] === '\n' ? 2 : 3;
      continue;
    }
    if (i >= limit || endsWord(text[i]) || text[i] === '#') break;
    const start = i;
    let open = true;
    while (i < limit && !endsWord(text[i])) {
      const c = text[i];
      if (c === '"' || c === '\'') {
        const close = closingQuote(text, i, limit);
        if (close < 0 || (i > start && !endsWord(text[close + 1]))) { open = false; break; }
        i = close + 1;
        continue;
      }
      i++;
    }
    // Another of our commands starts its own scan (`… | curl …`, `ssh host mysql -pX`): this one ends before it.
    if (i - start <= 14 && COMMAND_NAMES.has(text.slice(start, i))) break;
    if (i > start) words.push({ start, end: i });
    if (!open) break;
  }
  return words;
}

/** Emits text[start, end) as a password unless it is empty, quoted around nothing, a reference or a placeholder. */
function emitValue(ctx: ScanContext, emit: Emit, start: number, end: number, userPart = false): void {
  const { text } = ctx;
  const q = text[start];
  if ((q === '"' || q === '\'') && end - start >= 2 && text[end - 1] === q) { start++; end--; }
  if (userPart) { // curl's user:password — the password is what follows the first colon
    const colon = text.indexOf(':', start);
    if (colon < 0 || colon >= end) return;
    start = colon + 1;
  }
  const value = text.slice(start, end);
  // Punctuation alone (`-p,` in prose) is no password; `$(…)` reads it from elsewhere.
  if (!/[A-Za-z0-9]/.test(value) || value.startsWith('$(') || isReference(value) || isPlaceholder(value) || ctx.isAllowed(value)) return;
  emit({ category: 'cli-password', start, end, priority: PRIORITY.structure });
}

function scanCommand(ctx: ScanContext, emit: Emit, name: string, words: Word[]): void {
  const { text } = ctx;
  const word = (k: number) => text.slice(words[k]!.start, words[k]!.end);
  if (MYSQL_CLIENTS.has(name)) {
    // Only the glued form carries a password: a bare `-p` prompts, and the next word is the database.
    for (let k = 0; k < words.length; k++) if (word(k).startsWith('-p') && words[k]!.end - words[k]!.start > 2) emitValue(ctx, emit, words[k]!.start + 2, words[k]!.end);
  } else if (name === 'sshpass') {
    // Options end at the wrapped command, whose own `-p` (ssh's port) is not ours.
    for (let k = 0; k < words.length; k++) {
      const w = word(k);
      if (w === '-p') { if (k + 1 < words.length) emitValue(ctx, emit, words[k + 1]!.start, words[k + 1]!.end); return; }
      if (w.startsWith('-p')) { emitValue(ctx, emit, words[k]!.start + 2, words[k]!.end); return; }
      if (SSHPASS_ARGS.has(w)) k++;
      else if (!w.startsWith('-')) return;
    }
  } else if (name === 'redis-cli') {
    for (let k = 0; k + 1 < words.length; k++) if (word(k) === '-a') emitValue(ctx, emit, words[k + 1]!.start, words[k + 1]!.end);
  } else { // curl
    for (let k = 0; k < words.length; k++) {
      const w = word(k);
      if (w === '-u' || w === '--user' || w === '-U' || w === '--proxy-user') {
        if (k + 1 < words.length) emitValue(ctx, emit, words[k + 1]!.start, words[k + 1]!.end, true);
        k++;
      } else if (w.startsWith('--user=') || w.startsWith('--proxy-user=')) emitValue(ctx, emit, words[k]!.start + w.indexOf('=') + 1, words[k]!.end, true);
      else if ((w.startsWith('-u') || w.startsWith('-U')) && w.length > 2) emitValue(ctx, emit, words[k]!.start + 2, words[k]!.end, true);
    }
  }
}

export const commandLinePasswords: Detector = {
  id: 'command-line',
  categories: ['cli-password'],
  keywords: ['mysql', 'mariadb', 'sshpass', 'redis-cli', 'curl'],
  detect(ctx, emit) {
    const { text } = ctx;
    const re = COMMANDS;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const start = m.index, end = start + m[0].length;
      if ((start > 0 && continuesName(text.charCodeAt(start - 1))) || !isBlank(text[end])) continue;
      if (m[0].startsWith('mysql') && !MYSQL_CLIENTS.has(m[0])) continue;
      scanCommand(ctx, emit, m[0], commandWords(text, end));
    }
  },
};
