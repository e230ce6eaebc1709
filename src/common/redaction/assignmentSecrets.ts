/**
 * `password = "hunter2"`, `API_KEY=…`, `"client_secret": "…"`, `<password>…</password>`, `--token …`,
 * `Authorization: Bearer …`, YAML's `password: |` block: a literal assigned to a secret-like name. The name decides
 * how much evidence the value needs — a password-like name takes any literal that is not a placeholder or a
 * reference (simple passwords are the ones generic detectors miss); a weaker name such as `mapsKey` needs a long,
 * high-entropy value. A value that is the name itself (`API_KEY: 'apiKey'`) never counts, and under names other
 * than password-like ones neither does an identifier such as `hearth.completion.enabled`.
 *
 * Linear time: a keyword scan over the lower-cased text, then a hand-written parse around each hit (no regex that
 * backtracks over long identifier runs).
 */
import { charClasses, isPlaceholder, isReference, isTrivialRun, isWordLikeIdentifier, looksLikeCode, shannonEntropy } from './valueChecks';
import { isHarmless } from './harmlessValues';
import { PRIORITY, type Detector, type ScanContext } from './detector';
import { LineTracker, proseValueAfter, valueBesideName, valueInChildBlock } from './structureScan';

type Strength = 'password' | 'secret' | 'weak-key' | 'auth';

/** Explicit case classes: irregexp scans these much faster than an /i alternation, and no lower-cased copy is needed. */
const KEYWORDS = /[pP](?:[aA][sS][sS]|[wW][dD])|[sS][eE][cC][rR][eE][tT]|[tT][oO][kK][eE][nN]|[kK][eE][yY]|[aA][uU][tT][hH]|[cC][rR][eE][dD][eE][nN][tT][iI][aA][lL]/g;

/** Length of the KEYWORDS alternative that ends on this letter (their last letters differ, case aside). */
function keywordLength(lastLetter: number): number {
  switch (lastLetter | 32) {
    case 115: return 4; // pass
    case 100: return 3; // pwd
    case 116: return 6; // secret
    case 110: return 5; // token
    case 121: return 3; // key
    case 104: return 4; // auth
    default: return 10; // credential
  }
}

/** [A-Za-z0-9_.-] without a regex call per character. */
function isKeyChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45;
}

/** Last words that turn a secret-ish name into metadata about the secret (`token_type`, `secretName`). */
const NON_SECRET_LAST = new Set([
  'name', 'names', 'type', 'types', 'id', 'ids', 'url', 'uri', 'urls', 'endpoint', 'path', 'file', 'filename', 'dir',
  'arn', 'ref', 'refs', 'length', 'len', 'count', 'enabled', 'enable', 'disabled', 'header', 'field', 'version',
  'prompt', 'hash', 'hashed', 'digest', 'ttl', 'expiry', 'expires', 'expiration', 'expire', 'at', 'in', 'label',
  'policy', 'provider', 'region', 'size', 'mode', 'format', 'algorithm', 'alg', 'method', 'host', 'port', 'user',
  'username', 'login', 'store', 'storage', 'manager', 'rotation', 'location', 'env', 'var', 'template', 'pattern',
  'regex', 'prefix', 'suffix', 'class', 'kind', 'description', 'desc', 'help', 'hint', 'message', 'msg', 'error',
  'errors', 'placeholder', 'required', 'min', 'max', 'timeout', 'source', 'scope', 'scopes', 'audience', 'issuer',
  'validator', 'validation', 'policy', 'strength', 'reset', 'changed', 'updated', 'created', 'input', 'box',
  'button', 'form', 'visible', 'visibility', 'icon', 'mask', 'rules', 'rule', 'regexp', 'schema', 'generator',
  'service', 'handler', 'callback', 'count', 'limit', 'budget', 'usage', 'cost', 'estimate', 'estimator',
  'tokens', 'keys', 'secrets', 'passwords', 'credentials', 'store', 'cache', 'map', 'list', 'index', 'column',
  'table', 'mount', 'volume', 'selector', 'option', 'options', 'params', 'param', 'encoding', 'encoder', 'decoder',
  'parser', 'reader', 'writer', 'client', 'ids', 'length', 'bits', 'bytes', 'sha', 'fingerprint', 'kid', 'pair',
  'plural', 'name_', 'text', 'title', 'label', 'lbl', 'str', 'attr', 'attribute', 'property', 'prop', 'key_id',
  'keyid', 'file_path', 'dialog', 'modal', 'page', 'screen', 'view', 'route', 'component', 'module', 'test',
  'spec', 'mock', 'fixture', 'example', 'sample', 'doc', 'docs', 'link', 'counter', 'usage', 'lifetime', 'age',
  'stdin', 'stdout', 'command', 'cmd', 'exists', 'present', 'set', 'missing', 'ok', 'valid', 'invalid', 'public',
  'hasher', 'hashers', 'hashing', 'backend', 'backends', 'scheme', 'strategy', 'driver', 'engine', 'library', 'lib',
]);

/** Words that make a key name a public, published value (`STRIPE_PUBLISHABLE_KEY`, `NEXT_PUBLIC_…_ID`). */
const PUBLIC_WORDS = new Set(['publishable', 'public', 'pub']);

const PASSWORD_WORDS = /^(?:\w*password|\w*passwd|passphrase|pass|pwd|pw|\w*passwort|contrasena|senha|mdp|motdepasse|(?:require|key|store|master|root|db|admin|user|sql|ftp|smtp|mail|ldap|bind|auth|src|dest|new|old)pass|masterauth)$/;
const SECRET_WORDS = /^(?:\w*secret|\w*token|\w*apikey|api_?key|credentials?|\w*secretkey|\w*accesskey|\w*privatekey|\w*authkey|\w*authtoken|auth|bearer|pat|sas|cookie|session_?secret|salt|pepper|signature)$/;
const KEY_QUALIFIERS = new Set([
  'api', 'access', 'secret', 'private', 'auth', 'client', 'signing', 'encryption', 'master', 'account', 'app',
  'consumer', 'license', 'subscription', 'shared', 'service', 'session', 'jwt', 'hmac', 'webhook', 'crypto',
  'cipher', 'aes', 'deploy', 'admin', 'write', 'read', 'server', 'storage', 'sas', 'primary', 'secondary', 'root',
  'developer', 'dev', 'prod', 'live', 'test', 'x', 'rest', 'management', 'mgmt', 'ingest', 'ingestion', 'license',
  'data', 'kek', 'dek', 'wrapping', 'wrap', 'cookie', 'csrf', 'totp', 'otp', 'recovery', 'vault', 'gpg', 'pgp', 'tls',
  'ssl', 'signer', 'verification', 'symmetric', 'db', 'database', 'backup', 'sync', 'push', 'upload', 'bot', 'channel',
]);

/** Splits `AWS_SECRET_ACCESS_KEY`, `clientSecret`, `db.password`, `x-api-key` into lower-case words. */
export function splitKeyWords(key: string): string[] {
  const cached = wordsCache.get(key);
  if (cached) return cached;
  const words = splitWords(key);
  if (wordsCache.size > 4096) wordsCache.clear();
  wordsCache.set(key, words);
  return words;
}

const wordsCache = new Map<string, string[]>();

function splitWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[\s_.-]+/)
    .filter((w) => w.length > 0);
}

const strengthCache = new Map<string, Strength | undefined>();

/** How strong a secret the name announces, or undefined for names that are not about secrets. */
export function keyStrength(key: string): Strength | undefined {
  if (strengthCache.has(key)) return strengthCache.get(key);
  const strength = computeStrength(key);
  if (strengthCache.size > 4096) strengthCache.clear();
  strengthCache.set(key, strength);
  return strength;
}

function computeStrength(key: string): Strength | undefined {
  const words = splitKeyWords(key);
  if (words.length === 0) return undefined;
  const last = words[words.length - 1]!;
  if (words.some((w) => PUBLIC_WORDS.has(w)) && !words.some((w) => PASSWORD_WORDS.test(w) || w === 'secret' || w === 'private')) return undefined;
  if (last === 'authorization' || (last === 'auth' && words.length === 1 && key.startsWith('_'))) return 'auth';
  if (NON_SECRET_LAST.has(last)) return undefined;
  if (PASSWORD_WORDS.test(last)) return 'password';
  if (SECRET_WORDS.test(last)) return 'secret';
  if (last === 'key') {
    const prev = words.length > 1 ? words[words.length - 2]! : '';
    if (KEY_QUALIFIERS.has(prev) || PASSWORD_WORDS.test(prev) || SECRET_WORDS.test(prev)) return 'secret';
    return 'weak-key';
  }
  // `SECRET_KEY_BASE`, `password_confirmation`: a secret word earlier in the name, an unremarkable last word.
  for (const w of words.slice(0, -1)) {
    if (PASSWORD_WORDS.test(w)) return 'password';
    if (w === 'secret' || w === 'token' || w === 'apikey' || w === 'credentials') return 'secret';
  }
  return undefined;
}

/** `…;Password=x;`, `?user=a&password=x`: a key inside a connection string or a query. */
function inConnectionString(text: string, keyStart: number): boolean {
  let p = keyStart - 1;
  while (p >= 0 && (text[p] === ' ' || text[p] === '\t')) p--;
  if (p < 0 || (text[p] !== ';' && text[p] !== '&' && text[p] !== '?')) return false;
  // Minified code is full of `;x.password=…`: ask for a connection-string neighbour on the same line.
  const lineStart = text.lastIndexOf('\n', p) + 1;
  const before = text.slice(Math.max(lineStart, p - 300), p);
  return text[p] === ';'
    ? /(?:server|data source|host|user ?id|uid|user|username|database|initial catalog|address|addr|jdbc:[a-z]+)\s*[=:]/i.test(before)
    : /:\/\/|jdbc:/.test(before);
}

function categoryFor(key: string, strength: Strength, inConnection: boolean): string {
  const lower = key.toLowerCase();
  if (inConnection) return 'connection-string';
  if (lower.includes('aws') && lower.includes('secret')) return 'aws-secret-access-key';
  if (lower.includes('heroku')) return 'heroku-api-key';
  if (strength === 'auth') return 'auth-header';
  return strength === 'password' ? 'password' : 'generic-secret';
}

const HEX_DIGEST = /^(?:[a-f0-9]{32}|[a-f0-9]{40}|[a-f0-9]{64}|[A-F0-9]{32}|[A-F0-9]{40}|[A-F0-9]{64})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The literal text of a template string, interpolations dropped: `hearth.otlp.lastSeq:${path}` → `hearth.otlp.lastSeq`. */
function literalParts(v: string): string {
  if (!v.includes('${')) return v;
  return v.replace(/\$\{[^{}]*\}/g, '.').replace(/[._:/-]{2,}/g, '.').replace(/^[._:/-]|[._:/-]$/g, '');
}

/** `/etc/app/key.pem`, `./secrets/db`: path segments of names, not a base64 secret that starts with '/'. */
function isPathLike(v: string): boolean {
  if (/[+=]/.test(v)) return false;
  return !v.split('/').some((seg) => seg.length >= 16 && charClasses(seg) >= 3);
}

/** Does the value carry enough evidence for a name of this strength? */
export function valueQualifies(value: string, strength: Strength, quoted: boolean, fileKind: ScanContext['fileKind'], keyWords: readonly string[] = []): boolean {
  const v = value;
  if (v.length === 0 || v.length > 1000) return false;
  if (!quoted && (fileKind === 'code' || looksLikeCode(v))) return false;
  if (!quoted && /^(?:\d+|\d+\.\d+|true|false|yes|no|on|off)$/i.test(v)) return false;
  if (strength !== 'password' && v.length < 8) return false;
  if (isHarmless(v, { keyWords, passwordLike: strength === 'password' })) return false;
  if (/^(?:https?|file):\/\//i.test(v) || ((/^\.{0,2}\//.test(v) || /^~\//.test(v)) && isPathLike(v))) return false; // a URL or a path
  switch (strength) {
    case 'password':
      return v.length >= 3 && !/^\d{1,3}$/.test(v);
    case 'auth':
    case 'secret':
      if (v.length < 8 || isTrivialRun(v)) return false;
      if (/\s/.test(v) && (v.match(/\s/g)?.length ?? 0) >= 2) return false; // prose, not a token
      // A settings key or header name (`auth.session.token`, `x-api-key`) names a secret; it is not one. Passwords
      // are exempt: a plain word is exactly the weak password people use. Asked last, being the dearest check.
      return (shannonEntropy(v) >= 2.5 || charClasses(v) >= 2) && !isWordLikeIdentifier(literalParts(v).replace(/^_+|_+$/g, ''));
    case 'weak-key':
      if (v.length < 16 || /\s/.test(v) || HEX_DIGEST.test(v) || UUID.test(v)) return false;
      return shannonEntropy(v) >= 3.5 && charClasses(v) >= 2 && !isWordLikeIdentifier(literalParts(v));
  }
}

/** Lower-case letters and digits only, so `API_KEY`, `apiKey` and `api-key` compare equal. */
function bareName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '');
}

/** `API_KEY: 'apiKey'`, `AUTHORIZATION = "authorization"`: a constant holding its own name is no secret. */
function isOwnName(key: string, value: string): boolean {
  return bareName(value) === bareName(key);
}

/**
 * `password: |` or `client_secret: >-` and the more-indented lines under it: the span from the first content
 * character to the end of the last content line (the indicator stays), or undefined when this is no block scalar.
 */
function yamlBlockAfterKey(text: string, keyStart: number, keyEnd: number): { start: number; end: number } | undefined {
  let i = keyEnd;
  const q = text[keyStart - 1];
  if ((q === '"' || q === '\'') && text[i] === q) i++;
  if (text[i] !== ':') return undefined;
  i = skipSpaces(text, i + 1);
  if (text[i] !== '|' && text[i] !== '>') return undefined;
  i++;
  // Chomping and indentation indicators, in either order: |-, >+, |2, >-2.
  for (let k = 0; k < 2 && i < text.length && '-+123456789'.includes(text[i]!); k++) i++;
  i = skipSpaces(text, i);
  if (text[i] === '#') { const nl = text.indexOf('\n', i); i = nl < 0 ? text.length : nl; }
  if (text[i] === '\r') i++;
  if (i >= text.length || text[i] !== '\n') return undefined;
  const lineStart = text.lastIndexOf('\n', keyStart - 1) + 1;
  const keyIndent = skipSpaces(text, lineStart) - lineStart;
  let start = -1, end = -1;
  const limit = Math.min(text.length, i + 64 * 1024);
  for (let pos = i + 1; pos < limit;) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    const lineEnd = text[nl - 1] === '\r' ? nl - 1 : nl;
    const first = skipSpaces(text, pos);
    if (first < lineEnd) {
      if (first - pos <= keyIndent) break; // back at the key's level: the block is over
      if (start < 0) start = first;
      end = lineEnd;
    }
    pos = nl + 1;
  }
  return start >= 0 ? { start, end } : undefined;
}

interface ParsedValue { start: number; end: number; quoted: boolean }

/**
 * How an unquoted value ends. `code`: at punctuation that ends an expression. `line`: a line-oriented format
 * (.env, ini, YAML, properties, shell) where a plain value runs to whitespace, punctuation included — a Django
 * `SECRET_KEY=abc)(^%…` is one value. `string`: inside a string literal, up to its closing quote or whitespace.
 */
type PlainMode = 'code' | 'line' | 'string';

/** Reads the value after the operator at `i`: a quoted string on one line, or an unquoted run. */
function readValue(text: string, i: number, xml: boolean, connection = false, mode: PlainMode = 'code', closeQuote = ''): ParsedValue | undefined {
  const q = text[i];
  if ((q === '"' || q === '\'' || q === '`') && mode !== 'string') {
    if (text.startsWith(q + q + q, i)) return undefined; // docstrings / heredocs: not a single literal
    let j = i + 1;
    const limit = Math.min(text.length, i + 1100);
    for (; j < limit; j++) {
      const c = text[j];
      if (c === '\\') { j++; continue; }
      if (c === q) return { start: i + 1, end: j, quoted: true };
      if (c === '\n') return undefined;
    }
    return undefined;
  }
  let j = i;
  const limit = Math.min(text.length, i + 1100);
  if (xml) {
    while (j < limit && text[j] !== '<' && text[j] !== '\n') j++;
  } else if (mode === 'line' && !connection) {
    while (j < limit) {
      const c = text[j]!;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') break;
      j++;
    }
  } else if (mode === 'string') {
    while (j < limit) {
      const c = text[j]!;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === closeQuote || c === '\\' || (c === ';' && connection)) break;
      if (c === '&' && /^&[A-Za-z_][\w.-]*=/.test(text.slice(j, j + 40))) break; // the next pair of a query string
      j++;
    }
  } else {
    while (j < limit) {
      const c = text[j]!;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '"' || c === '\'' || c === '`' || c === ';' || c === ',' || c === ')' || c === ']' || c === '}' || c === '<' || c === '>') break;
      if (c === '&' && connection) break;
      j++;
    }
  }
  let end = j;
  while (end > i && (text[end - 1] === ' ' || text[end - 1] === '\t' || text[end - 1] === '\r')) end--;
  return end > i ? { start: i, end, quoted: mode === 'string' } : undefined;
}

function skipSpaces(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  return i;
}

/** Finds the value assigned after a key ending at `keyEnd`, or undefined when this is not an assignment. */
function valueAfterKey(ctx: ScanContext, keyStart: number, keyEnd: number, inConnection: boolean, mode: PlainMode, closeQuote: string): ParsedValue | undefined {
  const { text } = ctx;
  const before = keyStart > 0 ? text[keyStart - 1] : '';
  let i = keyEnd;
  if ((before === '"' || before === '\'') && text[i] === before) { i++; mode = mode === 'string' ? 'code' : mode; } // "password": …
  const xml = before === '<';
  if (xml) {
    if (text[i] !== '>') return undefined;
    const v = readValue(text, i + 1, true);
    return v && text[v.end] === '<' ? v : undefined;
  }
  if (before === '-' && keyStart >= 2 && text[keyStart - 2] === '-') {
    // --password value / --password=value; a following flag is no value (`--password-stdin`, `--token --json`).
    i = text[i] === '=' ? i + 1 : text[i] === ' ' ? skipSpaces(text, i) : -1;
    if (i < 0 || text[i] === '-' || text[i] === '\\' || text[i] === '|' || text[i] === '>') return undefined;
    return readValue(text, i, false, false, mode === 'code' ? 'line' : mode, closeQuote);
  }
  // `define( 'DB_PASSWORD', '…' )`, `setenv("API_TOKEN", "…")`, `config.set('db.password', '…')`: a name as a
  // call's first argument and the value as its second.
  // The name is a constant's or a setting's (`DB_PASSWORD`, `db.password`), not a word (`MissingToken('token', …)`).
  if ((before === '"' || before === '\'') && text[keyEnd] === before && /[_.A-Z-]/.test(text.slice(keyStart, keyEnd)) && isFirstCallArgument(text, keyStart - 1)) {
    const j = skipSpaces(text, i);
    if (text[j] !== ',') return undefined;
    const v = readValue(text, skipSpaces(text, j + 1), false);
    if (!v || !v.quoted || /\s/.test(text.slice(v.start, v.end))) return undefined;
    const after = skipSpaces(text, v.end + 1);
    return text[after] === ')' || text[after] === ',' ? v : undefined;
  }
  // `<add key="DbPassword" value="…"/>` (.NET appSettings)
  if (before === '"' && /^"\s+value\s*=\s*"/.test(text.slice(i - 1, i + 16))) {
    const q = text.indexOf('"', text.indexOf('=', i) + 1);
    return readValue(text, q, false);
  }
  // `proxy_set_header X-Api-Key VALUE;`, `aws configure set aws_secret_access_key VALUE`, `SetEnv DB_PASSWORD VALUE`:
  // a directive that sets a name to the next word.
  const opAt = skipSpaces(text, i);
  if (text[opAt] !== '=' && text[opAt] !== ':' && (text[i] === ' ' || text[i] === '\t' || ((before === '"' || before === '\'') && text[i] === before)) && SETTER_BEFORE.test(text.slice(Math.max(0, keyStart - 40), keyStart))) {
    let j = text[i] === before ? i + 1 : i;
    j = skipSpaces(text, j);
    if (text[j] !== '=' && text[j] !== ':' && text[j] !== '\n') {
      const v = readValue(text, j, false, false, 'line');
      if (v && !v.quoted && text[v.end - 1] === ';') v.end--;
      return v && v.end > v.start ? v : undefined;
    }
  }
  i = skipSpaces(text, i);
  const c = text[i], c2 = text[i + 1];
  if (c === ':' && c2 === '=') i += 2; // Go
  else if (c === '=' && c2 === '>') i += 2; // PHP, Ruby
  else if (c === '=' && c2 !== '=' && text[i - 1] !== '!' && text[i - 1] !== '<' && text[i - 1] !== '>') i += 1;
  else if (c === '=' && c2 === '=' && mode === 'line' && i === keyEnd && text[i + 2] !== ' ' && text[i + 2] !== '=') i += 1; // `key==x…`: a value that starts with '='
  else if (c === ':' && c2 !== ':') i += 1;
  else return undefined;
  i = skipSpaces(text, i);
  // Python's string prefixes: `f"Bearer {tok}"`, `r'…'`, `b"…"`.
  if (/^(?:[frbuFRBU]|rb|br|fr|rf)["']/.test(text.slice(i, i + 3))) i += text[i + 1] === '"' || text[i + 1] === '\'' ? 1 : 2;
  let v = readValue(text, i, false, inConnection, mode, closeQuote);
  // `password: str = "hunter2"` / `password: string = 'x'`: skip a type annotation.
  if (v && !v.quoted && /^[A-Za-z_][\w.<>[\]|]*$/.test(text.slice(v.start, v.end))) {
    const j = skipSpaces(text, v.end);
    if (text[j] === '=' && text[j + 1] !== '=') v = readValue(text, skipSpaces(text, j + 1), false);
  }
  return v;
}

/** Directives whose next two words are a name and its value (nginx, Apache, CLI config setters). */
const SETTER_BEFORE = /(?:\b(?:proxy_set_header|add_header|grpc_set_header|more_set_headers|fastcgi_param|uwsgi_param|SetEnv|setenv|PassEnv|RequestHeader\s+(?:set|append|add)|Header\s+(?:always\s+)?(?:set|append|add)|configure\s+set|config\s+set|config:set|secrets?\s+set|env\s+set|variable\s+set)[ \t]+["']?)$/;

/** Whether the quote at `q` opens a call's first argument: `(` before it, a name before that. */
function isFirstCallArgument(text: string, q: number): boolean {
  let p = q - 1;
  while (p >= 0 && (text[p] === ' ' || text[p] === '\t')) p--;
  if (text[p] !== '(') return false;
  p--;
  while (p >= 0 && (text[p] === ' ' || text[p] === '\t')) p--;
  return p >= 0 && isKeyChar(text.charCodeAt(p));
}

/** Markdown, plain text and other prose files, where a label and its value share a sentence, not a syntax. */
const isProseFile = (fileName: string | undefined) => fileName !== undefined && /\.(?:md|markdown|txt|rst|adoc|org|html?)$/i.test(fileName);

export const assignmentSecrets: Detector = {
  id: 'assignment',
  categories: ['password', 'generic-secret', 'auth-header', 'connection-string', 'aws-secret-access-key', 'heroku-api-key', 'yaml-block-secret'],
  detect(ctx, emit) {
    const { text } = ctx;
    const re = KEYWORDS;
    re.lastIndex = 0;
    let lastKeyEnd = -1;
    const prose = isProseFile(ctx.fileName);
    let proseSearchedTo = -1;
    const lines = new LineTracker(text);
    let proseFound: ParsedValue | undefined;
    // test() rather than exec(): no match object per hit; the keyword's length follows from its last letter.
    while (re.test(text)) {
      const hitEnd = re.lastIndex;
      const hit = hitEnd - keywordLength(text.charCodeAt(hitEnd - 1));
      let ks = hit, ke = hitEnd;
      while (ks > 0 && isKeyChar(text.charCodeAt(ks - 1)) && hit - ks < 80) ks--;
      while (ke < text.length && isKeyChar(text.charCodeAt(ke)) && ke - hit < 80) ke++;
      re.lastIndex = ke;
      if (ke <= lastKeyEnd) continue;
      lastKeyEnd = ke;
      // `--password value`: the dashes are the flag's, not the name's.
      while (ks < hit && text[ks] === '-') ks++;
      // `${DB_PASSWORD:?missing}`, `$API_TOKEN`, `%API_KEY%`: a reference names a secret; what follows is not one.
      const prev = ks > 0 ? text[ks - 1] : '';
      if (prev === '$' || prev === '%' || (prev === '{' && text[ks - 2] === '$') || (prev === '(' && text[ks - 2] === '$')) continue;
      // `arn:aws:secretsmanager:…:secret:prod/api`, `vault:secret/data/x`: a path segment, not a name with a value.
      if ((prev === ':' || prev === '/') && isKeyChar(text.charCodeAt(ks - 2))) continue;
      // Shell-style prefixes (`export`, Dockerfile `ENV`) are separate words, so the key is already clean.
      let key = text.slice(ks, ke);
      // A trailing '.' or '-' belongs to punctuation, not the name.
      while (key.length > 0 && (key.endsWith('.') || key.endsWith('-'))) { key = key.slice(0, -1); }
      const strength = keyStrength(key);
      if (!strength) continue;
      if (strength !== 'weak-key') {
        const block = yamlBlockAfterKey(text, ks, ks + key.length);
        if (block) {
          const content = text.slice(block.start, block.end);
          const single = !content.includes('\n');
          if (!ctx.isAllowed(content) && !(single && (isReference(content) || isPlaceholder(content)))) {
            emit({ category: 'yaml-block-secret', start: block.start, end: block.end, priority: PRIORITY.generic });
          }
          // The block's lines are its value, not keys of their own.
          re.lastIndex = lastKeyEnd = block.end;
          continue;
        }
      }
      // `getToken(`, `token.length`, `password;`: a name used in code, with no value after it (asked before anything
      // dearer; prose files keep every label).
      const next = text.charCodeAt(ks + key.length);
      if (!prose && (next === 40 || next === 46 || next === 41 || next === 59 || next === 44 || next === 91 || next === 93 || next === 125 || next === 63 || next === 33 || next === 38 || next === 124 || next === 43 || next === 42 || next === 47)) continue;
      const keyWords = splitKeyWords(key);
      const line = lines.at(ks);
      // Whether the key sits in a connection string or a query, asked once per key.
      const inConnection = inConnectionString(text, ks);
      // Line-oriented values: a config or .env line, a comment, or a `key=value` word among others (`host ansible_password=…`).
      const mode: PlainMode = line.inString ? 'string' : ctx.fileKind !== 'code' && (line.atLineStart || line.inComment || prev === ' ' || prev === '\t') ? 'line' : 'code';
      let v: ParsedValue | undefined = valueAfterKey(ctx, ks, ks + key.length, inConnection, mode, line.inString);
      // A config line's plain value is a literal, whatever it looks like (`cVOxnM6.IZZVCA6` is no member access).
      const lineLiteral = mode === 'line' && v !== undefined && !v.quoted;
      // A long value's own characters name no key: the scan goes on after it (linear on `password=password=…`). A short
      // one may be a name itself (`ParameterKey: AdminPassword`), and rescanning it costs little.
      if (v && v.end - v.start > 64 && v.end > re.lastIndex) re.lastIndex = lastKeyEnd = v.end;
      // A literal in a comment or a string is a literal whatever the file's language.
      // A quoted key (`"token": …`) closes its own string: what follows is code again.
      const quotedKey = (prev === '"' || prev === '\'') && text[ks + key.length] === prev;
      let literal = line.inComment || (line.inString !== '' && !quotedKey) || mode === 'line';
      let fromStructure = false;
      if (!v || (!v.quoted && text[v.start] === '{')) {
        // The value lives elsewhere in the structure: a sibling `value:`, a child `default =`, or prose after a label.
        v = valueBesideName(text, ks, ks + key.length) ?? valueInChildBlock(text, ks, ks + key.length);
        fromStructure = v !== undefined;
        // Prose files only: a code comment's label is followed by code, and code is full of quoted names.
        if (!v && prose && strength !== 'weak-key') {
          // Labels on one line share the text after them: search it once (linear on `password password …`).
          if (ks + key.length >= proseSearchedTo) {
            proseFound = proseValueAfter(text, ks + key.length, prose);
            let lineEnd = ks + key.length;
            while (lineEnd < text.length && lineEnd - ks < 600 && text.charCodeAt(lineEnd) !== 10) lineEnd++;
            proseSearchedTo = lineEnd;
          }
          v = proseFound && proseFound.start >= ks + key.length ? proseFound : undefined;
          if (v) {
            const pv = text.slice(v.start, v.end);
            // A label in prose names many things: ask a token, not a word or a command.
            // A token carries a digit or a symbol; names (`basePath`), package names and statements do not.
            if (pv.length < 6 || charClasses(pv) < 2 || !/[\d!#$%^&*+=~?|<>[\]()]/.test(pv) || /^[-/.~@]|[;{(]$|^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(pv) || looksLikeCode(pv)) v = undefined;
          }
          fromStructure = v !== undefined;
        }
        if (!v) continue;
        literal = true;
      }
      let { start } = v;
      let value = text.slice(start, v.end);
      if (strength === 'auth' || /^(?:Bearer|Basic|Token|Digest|Bot)$/i.test(value)) {
        // Authorization: Bearer <token> — the scheme stays, the credential goes.
        const scheme = /^(?:Bearer|Basic|Token|Digest|Bot|token|bearer)\s+/.exec(value);
        if (scheme) {
          start += scheme[0].length;
          value = value.slice(scheme[0].length);
          // An f-string that interpolates a literal: `f"Bearer {'tok'}"`.
          const lit = /^\{(['"])([^'"{}]+)\1\}$/.exec(value);
          if (lit) { start += 2; value = lit[2]!; }
        }
        else if ((!v.quoted || mode === 'string') && /^(?:Bearer|Basic|Token|Digest|Bot)$/i.test(value)) {
          const next = readValue(text, skipSpaces(text, v.end), false, false, mode === 'code' ? 'code' : 'line', line.inString);
          if (!next) continue;
          start = next.start;
          value = text.slice(next.start, next.end);
          if (!valueQualifies(value, 'secret', true, ctx.fileKind, keyWords)) continue;
          emit({ category: 'auth-header', start, end: next.end, priority: PRIORITY.generic });
          continue;
        }
      }
      if (ctx.isAllowed(value)) continue;
      // Inside a connection string the value is part of a literal even in a code file.
      const quoted = v.quoted || (inConnection && !looksLikeCode(value)) || (literal && !looksLikeCode(value)) || lineLiteral;
      if (!valueQualifies(value, strength === 'auth' ? 'secret' : strength, quoted, fromStructure ? 'config' : ctx.fileKind, keyWords) || isOwnName(key, value)) continue;
      emit({ category: categoryFor(key, strength, inConnection), start, end: start + value.length, priority: PRIORITY.generic });
    }
  },
};

/**
 * `log in as jane@corp.io / S3cret!x` in prose and tickets: an address, a slash, and the password after it. Found
 * by its ` / ` (an indexOf, no regex over the text), kept only when an email-shaped word precedes it.
 */
export const credentialPairs: Detector = {
  id: 'credential-pair',
  categories: ['password'],
  // No keyword: a literal that starts with a space would make every space of the text a start of the keyword scan;
  // indexOf finds ` / ` far faster.
  detect(ctx, emit) {
    const { text } = ctx;
    for (let p = text.indexOf(' / '); p >= 0; p = text.indexOf(' / ', p + 3)) {
      let a = p, at = -1;
      for (; a > 0 && a > p - 120; a--) {
        const c = text.charCodeAt(a - 1);
        if (c <= 32 || c === 40 || c === 60 || c === 34 || c === 39 || c === 96) break; // whitespace ( < " ' `
        if (c === 64) at = a - 1;
      }
      if (at < 0) continue; // no '@': no address before the slash (the common case: a division or a path)
      const user = text.slice(a, p);
      if (!/^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$/.test(user)) continue;
      const s = p + 3;
      let e = s;
      while (e < text.length && e - s < 200 && !/\s/.test(text[e]!)) e++;
      // A trailing '.' or ';' may end the sentence or the password: it goes with the password (redacting a period
      // costs nothing; leaking a character costs the secret).
      const value = text.slice(s, e);
      if (value.length < 6 || charClasses(value) < 2 || isHarmless(value) || ctx.isAllowed(value)) continue;
      emit({ category: 'password', start: s, end: e, priority: PRIORITY.generic });
    }
  },
};
