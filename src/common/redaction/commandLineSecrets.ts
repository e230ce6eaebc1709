/**
 * Passwords passed as command-line arguments: `mysql -u root -pS3cret` (the glued `-p` of the MySQL and MariaDB
 * clients), `sshpass -p secret ssh …`, `redis-cli -a secret`, `curl -u user:secret` / `--user user:secret` (the
 * part after the colon). Only the value is replaced; `--password value` stays with the assignment detector.
 *
 * Commands turn up in shell scripts, Dockerfile RUN lines, CI steps, READMEs and strings in code that run them, so
 * the reader is a small hand-written shell-word scanner over one command (up to a newline that is not continued, or
 * `;`, `|`, `&`), not a shell parser.
 */
import { isHarmless } from './harmlessValues';
import { PRIORITY, type Detector, type Emit, type ScanContext } from './detector';

/** Command names; the character before must not continue a name, the one after must be a space or tab. */
const COMMANDS = /mysql[a-z]*|mariadb(?:-[a-z]+)?|sshpass|redis-cli|curl|docker|podman|nerdctl|buildah|skopeo|helm|oras|crane|mongo(?:sh|dump|restore|import|export|stat|top)?|sqlcmd|bcp|ldap(?:search|add|modify|delete|passwd|whoami|compare|modrdn)|htpasswd|keytool|openssl|az|rabbitmqctl|echo|printf/g;

/** Registry clients whose `login` takes `-p` / `--password`. */
const REGISTRY_CLIENTS = new Set(['docker', 'podman', 'nerdctl', 'buildah', 'skopeo', 'helm', 'oras', 'crane', 'az']);
const MONGO_CLIENTS = /^mongo(?:sh|dump|restore|import|export|stat|top)?$/;
const KEYTOOL_PASSWORD_FLAGS = new Set(['-storepass', '-keypass', '-srcstorepass', '-deststorepass', '-srckeypass', '-destkeypass', '-new']);

const MYSQL_CLIENTS = new Set([
  'mysql', 'mysqldump', 'mysqladmin', 'mysqlimport', 'mysqlcheck', 'mysqlshow', 'mysqlpump', 'mysqlslap', 'mysqlbinlog',
  'mariadb', 'mariadb-dump', 'mariadb-admin', 'mariadb-import', 'mariadb-check', 'mariadb-show', 'mariadb-slap', 'mariadb-binlog',
]);

const COMMAND_NAMES = new Set([...MYSQL_CLIENTS, 'sshpass', 'redis-cli', 'curl', ...REGISTRY_CLIENTS, 'mongo', 'mongosh', 'mongodump', 'mongorestore', 'sqlcmd', 'bcp', 'htpasswd', 'keytool', 'openssl', 'rabbitmqctl']);

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
  if (value.startsWith('$(') || isHarmless(value) || ctx.isAllowed(value)) return;
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
  } else if (name === 'curl') {
    for (let k = 0; k < words.length; k++) {
      const w = word(k);
      if (w === '-u' || w === '--user' || w === '-U' || w === '--proxy-user') {
        if (k + 1 < words.length) emitValue(ctx, emit, words[k + 1]!.start, words[k + 1]!.end, true);
        k++;
      } else if (w.startsWith('--user=') || w.startsWith('--proxy-user=')) emitValue(ctx, emit, words[k]!.start + w.indexOf('=') + 1, words[k]!.end, true);
      else if ((w.startsWith('-u') || w.startsWith('-U')) && w.length > 2) emitValue(ctx, emit, words[k]!.start + 2, words[k]!.end, true);
    }
  } else if (REGISTRY_CLIENTS.has(name) || MONGO_CLIENTS.test(name)) {
    // `docker login -u x -p VALUE`, `helm registry login --password VALUE`, `mongosh -u x -p VALUE`.
    if (REGISTRY_CLIENTS.has(name) && !words.slice(0, 3).some((_, k) => word(k) === 'login')) return;
    flagValues(ctx, emit, words, word, (w) => w === '-p' || w === '--password', true);
  } else if (name === 'sqlcmd' || name === 'bcp') {
    flagValues(ctx, emit, words, word, (w) => w === '-P');
  } else if (name.startsWith('ldap')) {
    flagValues(ctx, emit, words, word, (w) => w === '-w');
  } else if (name === 'keytool') {
    flagValues(ctx, emit, words, word, (w) => KEYTOOL_PASSWORD_FLAGS.has(w));
  } else if (name === 'openssl') {
    // `-passin pass:VALUE`, `-passout pass:VALUE`, `-k VALUE`.
    for (let k = 0; k < words.length; k++) {
      const w = word(k);
      if (w.startsWith('pass:') && w.length > 5) emitValue(ctx, emit, words[k]!.start + 5, words[k]!.end);
      else if (w === '-k' && k + 1 < words.length) emitValue(ctx, emit, words[k + 1]!.start, words[k + 1]!.end);
    }
  } else if (name === 'htpasswd') {
    // `htpasswd -b[other flags] FILE USER PASSWORD`, `htpasswd -nb USER PASSWORD`: the password is the last word.
    const flags = words.length > 0 && word(0).startsWith('-') ? word(0) : '';
    if (!flags.includes('b')) return;
    const args = words.filter((w) => !text.startsWith('-', w.start));
    const want = flags.includes('n') ? 2 : 3;
    if (args.length >= want) emitValue(ctx, emit, args[want - 1]!.start, args[want - 1]!.end);
  } else if (name === 'rabbitmqctl') {
    // `rabbitmqctl add_user NAME PASSWORD`, `change_password NAME PASSWORD`.
    for (let k = 0; k + 2 < words.length; k++) if (word(k) === 'add_user' || word(k) === 'change_password') emitValue(ctx, emit, words[k + 2]!.start, words[k + 2]!.end);
  }
}

/**
 * A value that starts with '-' after a flag that always takes one (`docker login -p -KV_x9…`): long enough and not
 * shaped like an option (`--username`, `-u`, `--password-stdin`).
 */
function isDashValue(w: string): boolean {
  return w.length >= 8 && !/^--?[a-z][a-z-]*(?:=.*)?$/.test(w);
}

/** Emits the word after each flag `isFlag` accepts, and the part after `=` of `--flag=value`. */
function flagValues(ctx: ScanContext, emit: Emit, words: Word[], word: (k: number) => string, isFlag: (w: string) => boolean, dashValues = false): void {
  for (let k = 0; k < words.length; k++) {
    const w = word(k);
    const eq = w.indexOf('=');
    if (eq > 1 && w.startsWith('-') && isFlag(w.slice(0, eq))) emitValue(ctx, emit, words[k]!.start + eq + 1, words[k]!.end);
    else if (isFlag(w) && k + 1 < words.length && (!word(k + 1).startsWith('-') || (dashValues && isDashValue(word(k + 1))))) { emitValue(ctx, emit, words[k + 1]!.start, words[k + 1]!.end); k++; }
  }
}

/**
 * `echo VALUE | base64 -d | docker login …`, `echo "$X" | docker login --password-stdin`, `printf VALUE | … login`:
 * a value echoed into a login on the same line is the password (or a base64 `user:password` blob).
 */
function echoIntoLogin(ctx: ScanContext, emit: Emit, end: number): void {
  const { text } = ctx;
  let lineEnd = text.indexOf('\n', end);
  if (lineEnd < 0) lineEnd = text.length;
  const rest = text.slice(end, Math.min(lineEnd, end + 600));
  const pipe = rest.indexOf('|');
  if (pipe < 0 || !/\|[^|]*(?:\blogin\b|--password-stdin|\bchpasswd\b)/.test(rest.slice(pipe))) return;
  const words = commandWords(text, end).filter((w) => w.start < end + pipe);
  const args = words.filter((w) => !/^-[neE]+$/.test(text.slice(w.start, w.end)));
  if (args.length !== 1) return;
  emitValue(ctx, emit, args[0]!.start, args[0]!.end);
}

export const commandLinePasswords: Detector = {
  id: 'command-line',
  categories: ['cli-password'],
  keywords: ['mysql', 'mariadb', 'sshpass', 'redis-cli', 'curl', 'login', 'mongo', 'sqlcmd', 'bcp ', 'ldap', 'htpasswd', 'keytool', 'pass:', 'rabbitmqctl', 'chpasswd'],
  detect(ctx, emit) {
    const { text } = ctx;
    const re = COMMANDS;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const start = m.index, end = start + m[0].length;
      if ((start > 0 && continuesName(text.charCodeAt(start - 1))) || !isBlank(text[end])) continue;
      if (m[0].startsWith('mysql') && !MYSQL_CLIENTS.has(m[0])) continue;
      if (m[0] === 'echo' || m[0] === 'printf') { echoIntoLogin(ctx, emit, end); continue; }
      scanCommand(ctx, emit, m[0], commandWords(text, end));
    }
  },
};
