/**
 * The harmless-value model every detector shares: a value that sits where a secret would (under a password-like
 * name, after a CLI's password flag, in a URL's userinfo) but is no secret — a fixture, a placeholder, a reference
 * to a secret kept elsewhere, a public identifier, a hash, a UUID, a version, a minified identifier. Each rule has
 * a name (the unit tests check each one, and `harmlessReason` says which rule spared a value), and the rules see
 * only the value, plus what the caller knows of its key, so a detector stays free to demand more evidence.
 *
 * The rules run on candidate values only (a few per KB of text), never over whole files, so they cost the
 * throughput nothing measurable; each is a bounded loop or a regex without nested quantifiers.
 */

/** What the caller knows about where the value sits. */
export interface HarmlessHint {
  /** Words of the name the value is assigned to, lower-case (`['db', 'password']`). */
  keyWords?: readonly string[];
  /** The name announces a password (any literal counts) rather than a token or key. */
  passwordLike?: boolean;
}

export interface HarmlessRule {
  name: string;
  /** What the rule spares, for the docs and the tests. */
  description: string;
  test(value: string, hint: HarmlessHint): boolean;
}

const PLACEHOLDER_WORDS = new Set([
  'changeme', 'change_me', 'change-me', 'changeit', 'placeholder', 'password', 'passwd', 'secret', 'token', 'apikey',
  'api_key', 'api-key', 'redacted', 'todo', 'tbd', 'fixme', 'none', 'null', 'nil', 'undefined', 'true', 'false',
  'required', 'optional', 'string', 'str', 'number', 'int', 'bool', 'boolean', 'any', 'unknown', 'value', 'empty',
  'default', 'notset', 'not-set', 'not_set', 'mask', 'masked', 'hidden', 'secret_here', 'pass', 'pwd', '...', 'n/a',
  'test', 'testing', 'foo', 'bar', 'foobar', 'baz', 'dummy', 'sample', 'fake', 'sensitive', 'secure', 'private',
]);

/** Words that, inside a value, announce a stand-in (on the lower-cased value). */
const STANDIN_MARKERS = /example|placeholder|dummy|xxxx|changeme|change_me|replace[-_]?me|redacted|your[-_]?(?:own[-_]?)?(?:api|secret|access|app|client|private|auth|db|database|admin|real|actual|account|[a-z]*(?:key|token|pass|secret))|insert[-_]?(?:your|key|token|secret|here)|fake[-_]?(?:key|token|secret|pass)|not[-_]?a[-_]?real|do[-_]?not[-_]?use|not[-_]?used|unused|dev[-_]?only|local[-_]?only|test[-_]?only|for[-_]?testing|_here\b|-here\b|goes[-_]?here|<(?:your|my|insert|enter|replace)[a-z_ -]*>|<[a-z]+[-_ ][a-z_ -]+>/;

/** A unit of 1–4 characters repeated over the whole value: `aaaaaaaa`, `abcabcabc`, `12121212`, `xXxXxX`. */
function isRepeatedUnit(v: string): boolean {
  const n = v.length;
  if (n < 4) return false;
  outer: for (let p = 1; p <= 4 && p * 2 <= n; p++) {
    for (let i = p; i < n; i++) if (v.charCodeAt(i) !== v.charCodeAt(i - p)) continue outer;
    return true;
  }
  return false;
}

/**
 * Counting runs: most adjacent pairs step by one (`abcdefgh`, `1234567890abcdef1234567890abcdef`, `ABCDEF123456`).
 * Random secrets step by one about once in sixty pairs. Keyboard walks (`qwerty123`, `zaq12wsx`) are not spared:
 * people do use them as passwords.
 */
function isSequentialRun(v: string): boolean {
  const n = v.length;
  if (n < 6) return false;
  let steps = 0;
  for (let i = 1; i < n; i++) {
    const d = v.charCodeAt(i) - v.charCodeAt(i - 1);
    if (d === 1 || d === -1 || (v[i - 1] === '9' && v[i] === '0')) steps++;
  }
  return steps >= 0.7 * (n - 1);
}

/** Few distinct characters for its length: `aaaabbbb`, `0000111122223333`, `abababab-cdcdcdcd`. */
function isLowVariety(v: string): boolean {
  if (v.length < 12) return false;
  const limit = v.length >= 24 ? 4 : 3;
  // Up to `limit` distinct codes held in locals: no allocation per value.
  let a = -1, b = -1, c = -1, d = -1, n = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v.charCodeAt(i);
    if (x === a || x === b || x === c || x === d) continue;
    if (++n > limit) return false;
    if (a < 0) a = x; else if (b < 0) b = x; else if (c < 0) c = x; else d = x;
  }
  return true;
}

/** The body of a prefixed token (`ghp_…`, `sk_live_…`), or the value itself. */
function tokenBody(v: string): string {
  const m = /^(?:[A-Za-z]{2,10}[_-](?:(?:live|test|v\d|pat|proj|ant-[a-z0-9]+)[_-])?)(?=[A-Za-z0-9]{8})/.exec(v);
  return m ? v.slice(m[0].length) : v;
}

/**
 * Card numbers that payment processors publish for testing (Stripe, Visa, Mastercard, Amex, Discover, JCB, Diners
 * documentation): they pass Luhn and reach no account, and tests and docs are full of them.
 */
const PUBLISHED_TEST_CARDS = new Set([
  '4242424242424242', '4000056655665556', '4111111111111111', '4012888888881881', '4222222222222', '4000000000000002',
  '4000000000009995', '4000002500003155', '4000000000000077', '4000000000003220', '4000000760000002', '4000001240000000',
  '5555555555554444', '5200828282828210', '5105105105105100', '2223003122003222', '2223000048400011', '5454545454545454',
  '378282246310005', '371449635398431', '378734493671000', '6011111111111117', '6011000990139424', '6011000400000000',
  '3530111333300000', '3566002020360505', '30569309025904', '38520000023237', '36227206271667', '6200000000000005',
]);

/** A published test card number (digits only). */
export function isPublishedTestCard(digits: string): boolean {
  return PUBLISHED_TEST_CARDS.has(digits);
}

const VERSION_START = /^v?\d/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const HEX_HASH = /^(?:[0-9a-f]{7,12}|[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{56}|[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128}|[0-9A-F]{32}|[0-9A-F]{40}|[0-9A-F]{64}|[0-9A-F]{128})$/;
const HASH_KEY_WORDS = new Set(['sha', 'sha1', 'sha256', 'sha512', 'md5', 'hash', 'digest', 'checksum', 'integrity', 'commit', 'rev', 'revision', 'ref', 'etag', 'fingerprint', 'sum', 'crc', 'shasum', 'oid', 'tree', 'parent', 'head', 'version', 'build', 'nonce']);

export const HARMLESS_RULES: readonly HarmlessRule[] = [
  {
    name: 'empty',
    description: 'nothing, or punctuation alone',
    test: (v) => !/[A-Za-z0-9]/.test(v),
  },
  {
    name: 'placeholder-word',
    description: '`changeme`, `password`, `secret`, `none`, `TODO`, `<token>`, `%TOKEN%`, `***`, `XXXX` — a word that stands in for a value',
    test: (v) => {
      const lower = v.toLowerCase();
      if (PLACEHOLDER_WORDS.has(lower)) return true;
      if (/^(?:x+|\*+|\.+|-+|_+|#+|0+|•+|\?+)$/i.test(v)) return true;
      if (/^<[^<>]*>$|^\[[^[\]]*\]$|^\{[^{}]*\}$|^%[A-Za-z_]+%$|^__[A-Z0-9_]+__$|^@[A-Za-z_]+@$/.test(v)) return true;
      return /^(?:your|my|the|insert|enter|put|replace|add|set)[-_ ]?(?:own[-_ ]?)?[a-z0-9_-]*(?:key|token|secret|password|passwd|pass|here|value|id)s?$/i.test(v);
    },
  },
  {
    name: 'stand-in-marker',
    description: 'a value that announces itself as a stand-in: `…example…`, `your_api_key_here`, `not-a-real-key`, `sk_test_xxxx…`',
    test: (v) => STANDIN_MARKERS.test(v.toLowerCase()),
  },
  {
    name: 'elided',
    description: 'a body elided in documentation: `abc...xyz`, `sk-…`, `ghp_****`',
    test: (v) => v.includes('...') || v.includes('…') || /\*{3,}/.test(v),
  },
  {
    name: 'repeated-or-sequential',
    description: 'fixtures: one repeated unit (`aaaaaaaa`, `abcabc…`), a counting run (`12345678`, `1234567890abcdef…`), few distinct characters',
    test: (v) => {
      const body = tokenBody(v);
      return isRepeatedUnit(body) || isSequentialRun(body) || isLowVariety(body);
    },
  },
  {
    name: 'reference',
    description: 'a reference to a secret kept elsewhere: `${VAR}`, `${VAR:?missing}`, `$VAR`, `${{ secrets.X }}`, `{{ .Values.x }}`, `$(cat …)`, env lookups, vault/ssm/arn/op:// paths',
    test: (v) => isReference(v),
  },
  {
    name: 'remote-or-url',
    description: 'a git remote or a URL without credentials: `git@github.com:acme/app.git`, `https://host/path`',
    test: (v) => (v.includes('@') || v.includes('://')) && (/^[\w.-]+@[\w.-]+\.[a-z]{2,}:[\w./~-]+$/.test(v) ||
      // A URL with a random path segment is a capability (a webhook): not spared.
      (/^(?:https?|ssh|git|wss?|ftp):\/\/[^\s:@/]+(?::\d+)?(?:[/?#][^\s@]*)?$/.test(v) && !v.split(/[/?&=#]/).some((seg) => seg.length >= 16 && /[a-z]/.test(seg) && /[A-Z]/.test(seg) && /\d/.test(seg)))),
  },
  {
    name: 'test-card',
    description: 'a card number payment processors publish for tests (`4242 4242 4242 4242`, `4111111111111111`)',
    test: (v) => v.length >= 13 && v.length <= 23 && /^[\d -]+$/.test(v) && PUBLISHED_TEST_CARDS.has(v.replace(/\D/g, '')),
  },
  {
    name: 'cookie-or-header-name',
    description: 'a cookie or header name with its RFC 6265bis prefix (`__Host-session`, `__Secure-token`)',
    test: (v) => v.startsWith('__') && /^__(?:Host|Secure)-[\w.-]+$/.test(v),
  },
  {
    name: 'public-identifier',
    description: 'published by design: Stripe publishable keys (`pk_live_`, `pk_test_`), Mapbox public tokens (`pk.`), OAuth client ids (`….apps.googleusercontent.com`), SSH/PEM public keys',
    test: (v) => /^pk_(?:live|test)_|^pk\.eyJ|\.apps\.googleusercontent\.com$|^ssh-(?:rsa|ed25519|dss) |^ecdsa-sha2-|^-----BEGIN (?:RSA )?PUBLIC KEY|^-----BEGIN CERTIFICATE/.test(v),
  },
  {
    name: 'hash',
    description: 'a digest: `sha256:…`, `sha512-…` (lockfile integrity), hex under a hash/commit/checksum name, or a short git SHA',
    test: (v, hint) => {
      if (v.length < 7) return false;
      if (/^(?:sha(?:1|224|256|384|512)|md5|blake2b?|sha3-\d+)[:=-][A-Za-z0-9+/=_-]{16,}$/i.test(v)) return true;
      if (!HEX_HASH.test(v)) return false;
      if (v.length <= 12) return !hint.passwordLike; // an abbreviated commit
      return (hint.keyWords ?? []).some((w) => HASH_KEY_WORDS.has(w));
    },
  },
  {
    name: 'uuid',
    description: 'a UUID under a name that does not announce a secret (ids, request ids, tenant ids)',
    test: (v, hint) => v.length === 36 && hint.keyWords === undefined && UUID.test(v),
  },
  {
    name: 'version',
    description: 'a version or a date: `1.2.3`, `v2.0.0-rc.1`, `2024-01-31`, `20240131T120000Z`',
    test: (v) => VERSION_START.test(v) && /^v?\d+(?:\.\d+){1,3}(?:[-+][0-9A-Za-z.-]{1,20})?$/.test(v) || /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?Z?)?$/.test(v) || /^\d{8}T\d{6}Z?$/.test(v),
  },
  {
    name: 'minified-identifier',
    description: 'an identifier or member access from code: `e.password`, `t`, `n.token`, `this.secret`, `a[b]`',
    // Short segments and few digits: `dp.st.prd.q9GpTEyo1JEpr…` is a token with dots, not a member access.
    test: (v) => v.length <= 40 && /^[A-Za-z_$][\w$]{0,2}(?:(?:\.[A-Za-z_$][\w$]{0,15})+|\[[\w$."']{0,20}\])$/.test(v) && !/\d.*\d.*\d/.test(v),
  },
];

/** References to a value kept elsewhere. */
export function isReference(value: string): boolean {
  const v = value.trim();
  // Every form below holds one of these characters: most values are rejected by one scan.
  if (!/[$`{%#<@([:.+/]/.test(v)) return false;
  if (/^\$\{?\{?[A-Za-z_]/.test(v)) return true; // ${VAR}, $VAR, ${VAR:?missing}, ${{ secrets.X }}
  if (/^\$\{\{|^\$\(|^`[^`]*`$|^\$\[/.test(v)) return true; // ${{ … }}, $(cat …), `cmd`, $[variables.x]
  if (/^\{\{|^%\(|^#\{|^<%|^@\{|^\{%|^\(\(|^\[\[/.test(v)) return true; // templating: Helm, Python, Ruby, ERB, Jinja, Concourse
  if (/^(?:vault|ssm|secretsmanager|awskms|gcpkms|azurekv|keyvault|sops|op|doppler|infisical|env|file|secret|secrets|ref|k8s|gsm|sm|bws)(?:\+[a-z]+)?:\/{0,2}[A-Za-z0-9_./-]/i.test(v)) return true;
  if (/^arn:aws[a-z-]*:[a-z0-9-]+:/.test(v) || /^projects\/[^/\s]+\/secrets\//.test(v) || /^@Microsoft\.KeyVault\(/.test(v)) return true;
  if (/(?:process\.env|import\.meta\.env|os\.environ|os\.getenv|getenv\(|System\.getenv|Environment\.GetEnvironmentVariable|ENV\[|ENV\.fetch|Deno\.env|env\(|secrets\.|vault:|ref\+|arn:aws:secretsmanager|ssm:|\.Values\.|lookup\(|var\.|local\.|data\.|module\.)/.test(v)) return true;
  return false;
}

/** Placeholders and documentation stand-ins: `YOUR_API_KEY`, `<token>`, `xxx`, `changeme`, `***`, `your-key-here`. */
export function isPlaceholder(value: string): boolean {
  const v = value.trim();
  if (v.length === 0) return true;
  for (const rule of PLACEHOLDER_RULES) if (rule.test(v, {})) return true;
  return false;
}

const byName = (n: string) => HARMLESS_RULES.find((r) => r.name === n)!;
const PLACEHOLDER_RULES = ['placeholder-word', 'stand-in-marker', 'elided'].map(byName);

/** A provider-shaped token whose body is a stand-in: `ghp_xxxx…`, `sk_live_XXXX…`, `AKIAXXXXXXXXXXXXXXXX`, `…EXAMPLE`. */
export function isStandInToken(value: string): boolean {
  const body = tokenBody(value);
  return isRepeatedUnit(body) || isSequentialRun(body) || isLowVariety(body) || STANDIN_MARKERS.test(value.toLowerCase()) || value.includes('...') || value.includes('…');
}

/** The name of the first rule that spares the value, or undefined when the value may be a secret. */
export function harmlessReason(value: string, hint: HarmlessHint = {}): string | undefined {
  const v = value.trim();
  if (v.length === 0) return 'empty';
  for (const rule of HARMLESS_RULES) if (rule.test(v, hint)) return rule.name;
  return undefined;
}

/** True when a shared rule spares the value (see {@link HARMLESS_RULES}). */
export function isHarmless(value: string, hint: HarmlessHint = {}): boolean {
  return harmlessReason(value, hint) !== undefined;
}
