/**
 * Secrets recognised by their surroundings rather than a prefix: private key blocks, credentials inside URLs and
 * connection strings, JWTs, AWS secret keys next to their key id, Azure connection strings, Kubernetes Secrets,
 * `.netrc` entries.
 */
import { charClasses, isDocumentedExample, isPlaceholder, isReference } from './valueChecks';
import { isHarmless } from './harmlessValues';
import { PRIORITY, tokenBoundary, type Detector, type Emit, type ScanContext } from './detector';

const BEGIN_PRIVATE = /-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP |SSH2 ENCRYPTED )?PRIVATE KEY(?: BLOCK)?)-----/g;

const privateKeys: Detector = {
  id: 'private-key',
  categories: ['private-key', 'gcp-service-account-key'],
  keywords: ['PRIVATE KEY'],
  detect(ctx, emit) {
    const { text } = ctx;
    const re = BEGIN_PRIVATE;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const start = m.index;
      const endMarker = `-----END ${m[1]}-----`;
      let end = text.indexOf(endMarker, start + m[0].length);
      if (end >= 0 && end - start < 64 * 1024) end += endMarker.length;
      else {
        // A truncated block: take the base64 body (raw or JSON-escaped newlines) that follows the header.
        end = start + m[0].length;
        const body = /^(?:\\n|\\r|[\r\n \t]|[A-Za-z0-9+/=:-])*/.exec(text.slice(end, end + 16 * 1024));
        end += body ? body[0].length : 0;
      }
      const lineStart = text.lastIndexOf('\n', start) + 1;
      const inServiceAccount = /"private_key"\s*:\s*"$/.test(text.slice(Math.max(lineStart, start - 40), start));
      emit({ category: inServiceAccount ? 'gcp-service-account-key' : 'private-key', start, end, priority: PRIORITY.structure });
      re.lastIndex = end;
    }
  },
};

/** Characters that end a URL written in text or code. */
const isUrlStop = (c: string) => c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '"' || c === '\'' || c === '`' || c === '<' || c === '>';
/** What follows the userinfo's '@': a host (name, IPv4 or [IPv6]), an optional port, then the end of the authority. */
const HOST_AFTER_AT = /^(?:[A-Za-z0-9][A-Za-z0-9_-]{0,62}(?:\.[A-Za-z0-9_-]{1,63})*|\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}|[a-z]{2,8}\([^()\s]{1,200}\))(?::\d{1,5})?(?:[/?#,;)\]}\s"'`<>]|$)/;

const DB_SCHEMES = /^(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|sqlserver|oracle|cockroachdb|clickhouse|couchbase|cassandra|neo4j(?:\+s)?|bolt|nats|kafka|ldaps?|jdbc:[a-z0-9]+|r2dbc:[a-z0-9]+|sqlalchemy|mysql\+[a-z0-9]+|postgresql\+[a-z0-9]+)$/;

/** `scheme://user:password@host` — redacts the password only; the scheme decides the category. */
const urlCredentials: Detector = {
  id: 'url-credentials',
  categories: ['url-credentials', 'connection-string'],
  detect(ctx, emit) {
    const { text } = ctx;
    for (let i = text.indexOf('://'); i >= 0; i = text.indexOf('://', i + 3)) {
      let s = i;
      while (s > 0 && /[A-Za-z0-9+.:-]/.test(text[s - 1]!)) s--;
      const scheme = text.slice(s, i).toLowerCase();
      if (!/^[a-z]/.test(scheme)) continue;
      // userinfo: `user:` then a password up to the '@' that a host follows. Passwords are often not
      // percent-encoded (`postgres://u:Abc#9@host/db`), so '#', '?', '/' and '@' inside them do not end it; the
      // '@' that counts is the first one whose right side reads as a host and ends like an authority.
      const limit = Math.min(text.length, i + 3 + 512);
      let colon = -1, j = i + 3;
      for (; j < limit; j++) {
        const c = text[j]!;
        if (c === ':') { colon = j; break; }
        if (c === '@' || c === '/' || c === '?' || c === '#' || isUrlStop(c)) break;
      }
      if (colon < 0) continue;
      let at = -1;
      for (j = colon + 1; j < limit; j++) {
        const c = text[j]!;
        if (isUrlStop(c)) break;
        if (c === '@' && HOST_AFTER_AT.test(text.slice(j + 1, j + 260))) { at = j; break; }
      }
      if (at < 0) continue;
      const password = text.slice(colon + 1, at);
      if (password.length === 0 || isHarmless(password) || ctx.isAllowed(password)) continue;
      if (/^(?:pass|pw|pwd|secret|password\d?)$/i.test(password)) continue;
      const category = DB_SCHEMES.test(scheme) ? 'connection-string' : 'url-credentials';
      emit({ category, start: colon + 1, end: at, priority: PRIORITY.structure });
    }
  },
};

const JWT = /eyJ[A-Za-z0-9_-]{8,4000}\.eyJ[A-Za-z0-9_-]{8,8000}\.[A-Za-z0-9_-]{8,2000}/g;

const jwts: Detector = {
  id: 'jwt',
  categories: ['jwt'],
  keywords: ['eyJ'],
  detect(ctx, emit) {
    const { text } = ctx;
    const re = JWT;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const start = m.index, end = start + m[0].length;
      if (!tokenBoundary(text, start, end, '-')) continue;
      if (isDocumentedExample(m[0]) || ctx.isAllowed(m[0])) continue;
      emit({ category: 'jwt', start, end, priority: PRIORITY.provider });
    }
  },
};

const AWS_ID = /(?:AKIA|ASIA)[A-Z2-7]{16}/g;
const B64_40 = /[A-Za-z0-9/+]{40}/g;

/** An AWS secret access key has no prefix: 40 base64 characters within a few lines of an access key id. */
const awsSecretNearId: Detector = {
  id: 'aws-secret-near-id',
  categories: ['aws-secret-access-key'],
  keywords: ['AKIA', 'ASIA'],
  detect(ctx, emit) {
    const { text } = ctx;
    const ids = AWS_ID;
    ids.lastIndex = 0;
    let scannedTo = 0;
    for (let m = ids.exec(text); m; m = ids.exec(text)) {
      const from = Math.max(scannedTo, m.index - 400);
      const to = Math.min(text.length, m.index + 420);
      // Over the window only (a match starting before `to` ends by to + 39): a scan of the whole text would run on
      // to the next 40-character run, wherever it is.
      const re = B64_40;
      const windowText = text.slice(from, Math.min(text.length, to + 39));
      re.lastIndex = 0;
      for (let k = re.exec(windowText); k; k = re.exec(windowText)) {
        const start = from + k.index, end = start + 40;
        if (start >= to) break;
        if (!tokenBoundary(text, start, end, '/+=')) continue;
        const v = k[0];
        // Git SHAs and hex digests are lower-case hex; a secret key mixes cases and digits.
        if (charClasses(v) < 3 || isDocumentedExample(v) || ctx.isAllowed(v)) continue;
        emit({ category: 'aws-secret-access-key', start, end, priority: PRIORITY.structure });
      }
      scannedTo = to;
    }
  },
};

const AZURE = /(AccountKey|SharedAccessKey|SharedAccessSignature)=([^;"'\s]{20,400})/g;

const azureKeys: Detector = {
  id: 'azure-keys',
  categories: ['azure-storage-key', 'azure-sas-token'],
  keywords: ['AccountKey=', 'SharedAccessKey=', 'SharedAccessSignature=', 'sig='],
  detect(ctx, emit) {
    const { text } = ctx;
    const re = AZURE;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const value = m[2]!;
      if (isReference(value) || isPlaceholder(value) || ctx.isAllowed(value)) continue;
      const start = m.index + m[1]!.length + 1;
      emit({ category: 'azure-storage-key', start, end: start + value.length, priority: PRIORITY.structure });
    }
    // SAS URLs: ...?sv=2022-11-02&...&sig=<url-encoded base64>
    const sig = /[?&]sig=([A-Za-z0-9%+/=]{30,200})/g;
    for (let m = sig.exec(text); m; m = sig.exec(text)) {
      const start = m.index + 5;
      emit({ category: 'azure-sas-token', start, end: start + m[1]!.length, priority: PRIORITY.structure });
    }
  },
};

/**
 * Values under `data:` / `stringData:` of a YAML document whose `kind` is `Secret`. A small line scanner rather
 * than a YAML parser: it must run on fragments and on invalid YAML too.
 */
const k8sSecrets: Detector = {
  id: 'k8s-secret',
  categories: ['k8s-secret'],
  keywords: ['kind: Secret', 'kind: "Secret"', "kind: 'Secret'"],
  detect(ctx, emit) {
    const { text } = ctx;
    const docs: Array<[number, number]> = [];
    const sep = /^---[ \t]*$/gm;
    let last = 0;
    for (let m = sep.exec(text); m; m = sep.exec(text)) { docs.push([last, m.index]); last = m.index + m[0].length; }
    docs.push([last, text.length]);
    for (const [ds, de] of docs) {
      const doc = text.slice(ds, de);
      if (!/^kind:\s*["']?Secret["']?\s*$/m.test(doc)) continue;
      const lines = /[^\n]*\n?/g;
      let blockIndent = -1; // indent of the data:/stringData: key we are inside, -1 when outside
      let scalarIndent = -1; // inside a `key: |` block scalar
      let scalarStart = -1, scalarEnd = -1;
      const flushScalar = () => {
        if (scalarStart >= 0 && scalarEnd > scalarStart) emit({ category: 'k8s-secret', start: ds + scalarStart, end: ds + scalarEnd, priority: PRIORITY.structure });
        scalarStart = scalarEnd = -1;
      };
      for (let m = lines.exec(doc); m && m[0].length > 0; m = lines.exec(doc)) {
        const line = m[0].replace(/\r?\n$/, '');
        const indent = line.length - line.trimStart().length;
        const trimmed = line.trim();
        if (scalarIndent >= 0) {
          if (trimmed === '' || indent > scalarIndent) {
            if (trimmed !== '') { if (scalarStart < 0) scalarStart = m.index + indent; scalarEnd = m.index + line.length; }
            continue;
          }
          flushScalar();
          scalarIndent = -1;
        }
        if (trimmed === '' || trimmed.startsWith('#')) continue;
        if (blockIndent >= 0 && indent <= blockIndent) blockIndent = -1;
        if (blockIndent < 0) {
          if (/^(?:data|stringData):\s*$/.test(trimmed)) blockIndent = indent;
          continue;
        }
        const kv = /^(["']?[\w.-]+["']?):[ \t]*(.*)$/.exec(trimmed);
        if (!kv) continue;
        let value = kv[2]!.replace(/\s+#.*$/, '');
        if (/^[|>][-+]?\d*$/.test(value)) { scalarIndent = indent; continue; }
        let vs = m.index + indent + (trimmed.length - kv[2]!.length);
        if (/^(["']).*\1$/.test(value)) { value = value.slice(1, -1); vs += 1; }
        if (value === '' || isReference(value) || isPlaceholder(value) || ctx.isAllowed(value)) continue;
        emit({ category: 'k8s-secret', start: ds + vs, end: ds + vs + value.length, priority: PRIORITY.structure });
      }
      flushScalar();
    }
  },
};

/** Space, tab, CR or LF: what separates `.netrc` tokens (lines mean nothing to it). */
const isNetrcSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/** The next `.netrc` token at or after `i` (a "quoted token" whole), or undefined when none starts before `limit`. */
function netrcToken(text: string, i: number, limit: number): { start: number; end: number } | undefined {
  while (i < limit && isNetrcSpace(text.charCodeAt(i))) i++;
  if (i >= limit) return undefined;
  let j = i;
  if (text[i] === '"') {
    for (j = i + 1; j < limit && text[j] !== '"' && text[j] !== '\n'; j++) if (text[j] === '\\') j++;
    if (text[j] === '"') j++;
  } else {
    while (j < limit && !isNetrcSpace(text.charCodeAt(j))) j++;
  }
  return { start: i, end: j };
}

const NETRC_FIELDS = new Set(['login', 'password', 'account', 'port']);
/** Outside a `.netrc` file, `machine` must name a host (`api.heroku.com`, `localhost`), not start a sentence. */
const NETRC_HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|localhost)(?::\d+)?$/;

/**
 * Walks `.netrc` tokens from `from` (where `machine` or `default` starts an entry), emitting each password value,
 * and returns where it stopped. In a `.netrc` file every password counts and unknown words are skipped; in other
 * text (a heredoc, a README) an entry must name a host and a login first, and any other word ends the walk.
 */
function walkNetrc(ctx: ScanContext, emit: Emit, from: number, limit: number, netrcFile: boolean): number {
  const { text } = ctx;
  let i = from, login = false;
  for (;;) {
    const t = netrcToken(text, i, limit);
    if (!t) return limit;
    const word = text.slice(t.start, t.end);
    i = t.end;
    if (word === 'machine' || word === 'default') {
      login = false;
      if (word === 'machine') {
        const host = netrcToken(text, i, limit);
        if (!host || (!netrcFile && !NETRC_HOST.test(text.slice(host.start, host.end)))) return i;
        i = host.end;
      }
      continue;
    }
    if (word === 'macdef' && netrcFile) { // a macro body runs to the next blank line
      const blank = /\r?\n[ \t]*\r?\n/g;
      blank.lastIndex = i;
      i = blank.exec(text) ? blank.lastIndex : limit;
      continue;
    }
    if (!NETRC_FIELDS.has(word)) {
      if (netrcFile) continue;
      return t.start;
    }
    const v = netrcToken(text, i, limit);
    if (!v) return limit;
    i = v.end;
    if (word === 'login') login = true;
    else if (word === 'password' && (login || netrcFile)) {
      let { start, end } = v;
      if (text[start] === '"' && end - start >= 2 && text[end - 1] === '"') { start++; end--; }
      const value = text.slice(start, end);
      if (value.length === 0 || isPlaceholder(value) || isReference(value) || ctx.isAllowed(value)) continue;
      emit({ category: 'netrc-password', start, end, priority: PRIORITY.structure });
    }
  }
}

/**
 * The offset of the `machine` / `default` that starts a line at most 8 lines and 1 KB above `at`, or -1. Never
 * looks further back, so text with many `password` words and no newline stays linear.
 */
function netrcEntryStart(text: string, at: number): number {
  const from = Math.max(0, at - 1024);
  let lineEnd = at;
  for (let n = 0; n < 8; n++) {
    let lineStart = lineEnd;
    while (lineStart > from && text[lineStart - 1] !== '\n') lineStart--;
    if (lineStart === from && from > 0 && text[from - 1] !== '\n') return -1; // the line starts beyond the window
    let i = lineStart;
    while (text[i] === ' ' || text[i] === '\t') i++;
    if ((text.startsWith('machine', i) || text.startsWith('default', i)) && isNetrcSpace(text.charCodeAt(i + 7))) return i;
    if (lineStart <= from) return -1;
    lineEnd = lineStart - 1;
  }
  return -1;
}

/**
 * `.netrc` credentials: `machine host login user password VALUE` on one line or spread over several, and
 * `default login … password …`. Whole files named `.netrc` / `_netrc`; elsewhere entries that start a line.
 */
const netrcPasswords: Detector = {
  id: 'netrc',
  categories: ['netrc-password'],
  keywords: ['password'],
  detect(ctx, emit) {
    const { text } = ctx;
    const base = ctx.fileName?.replace(/^.*[\\/]/, '').toLowerCase();
    if (base === '.netrc' || base === '_netrc') {
      walkNetrc(ctx, emit, 0, text.length, true);
      return;
    }
    let doneUntil = 0, lastEntry = -1;
    for (let p = text.indexOf('password'); p >= 0; p = text.indexOf('password', p + 8)) {
      // Only the bare token, with a value after it: `password: …`, `password = …` are assignments.
      if (p < doneUntil || (p > 0 && !isNetrcSpace(text.charCodeAt(p - 1))) || !isNetrcSpace(text.charCodeAt(p + 8))) continue;
      let v = p + 9;
      while (text[v] === ' ' || text[v] === '\t') v++;
      if (text[v] === '=' || text[v] === ':') continue;
      const entry = netrcEntryStart(text, p);
      if (entry < 0 || entry === lastEntry) continue;
      lastEntry = entry;
      doneUntil = walkNetrc(ctx, emit, entry, Math.min(text.length, entry + 4096), false);
    }
  },
};

export const structuredSecretDetectors: Detector[] = [privateKeys, urlCredentials, jwts, awsSecretNearId, azureKeys, k8sSecrets, netrcPasswords];
