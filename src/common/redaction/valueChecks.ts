/** Cheap checks on candidate values: checksums, entropy, placeholders, references and documented examples. */

/** Shannon entropy in bits per character. */
const entropyCounts = new Uint16Array(256);
/** Which of the 256 counters are in use, as 8 words of 32 bits: only those are summed and reset. */
const entropySeen = new Int32Array(8);

export function shannonEntropy(s: string): number {
  const n = Math.min(s.length, 4096);
  if (n === 0) return 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i) & 0xff;
    entropyCounts[c]!++;
    entropySeen[c >>> 5]! |= 1 << (c & 31);
  }
  // Ascending character order, as a loop over all 256 counters would add them: the same sum to the last bit.
  let h = 0;
  for (let w = 0; w < 8; w++) {
    let bits = entropySeen[w]!;
    entropySeen[w] = 0;
    while (bits !== 0) {
      const low = bits & -bits;
      const c = (w << 5) | (31 - Math.clz32(low));
      bits ^= low;
      const p = entropyCounts[c]! / n;
      entropyCounts[c] = 0;
      h -= p * Math.log2(p);
    }
  }
  return h;
}

/** How many of lower case, upper case, digits and other characters the value uses. */
export function charClasses(s: string): number {
  let lower = 0, upper = 0, digit = 0, other = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 97 && c <= 122) lower = 1;
    else if (c >= 65 && c <= 90) upper = 1;
    else if (c >= 48 && c <= 57) digit = 1;
    else other = 1;
  }
  return lower + upper + digit + other;
}

/** Luhn checksum over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** ISO 13616 mod-97 check on an IBAN without spaces. */
export function ibanChecksumValid(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

/** IBAN lengths by country (the common ones; an unknown country needs 15–34 characters and the checksum). */
export const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, CH: 21, CR: 22, CY: 28, CZ: 24,
  DE: 22, DK: 18, DO: 28, EE: 20, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28,
  HR: 21, HU: 28, IE: 22, IL: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LI: 21, LT: 20, LU: 20, LV: 21,
  MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29,
  RO: 24, RS: 22, SA: 24, SE: 24, SI: 19, SK: 24, SM: 27, TN: 24, TR: 26, UA: 29, VG: 24, XK: 20,
};

// Placeholders and references are rules of the shared harmless-value model; re-exported for the detectors.
export { isPlaceholder, isReference } from './harmlessValues';

/** Values that look like code rather than a literal: identifiers, member access, calls, type names. */
export function looksLikeCode(value: string): boolean {
  const v = value.trim();
  if (/^[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*)+(?:\(.*\))?;?$/.test(v)) return true; // a.b.c, a.b()
  if (/^[A-Za-z_$][\w$]*\(.*\);?$/.test(v)) return true; // f(x)
  if (/^(?:new|await|this|self|typeof|function|lambda|req|request|args|params|options|opts|config|cfg|settings|input|data|body)\b/.test(v)) return true;
  return false;
}

/** Publicly documented example credentials (AWS, Stripe, jwt.io): harmless by design, so they survive. */
const DOCUMENTED_EXAMPLES = new Set<string>([
  // Built from parts so this file itself never looks like it carries a live key.
  'AKIA' + 'IOSFODNN7' + 'EXAMPLE',
  'wJalrXUtnFEMI/K7MDENG/' + 'bPxRfiCY' + 'EXAMPLEKEY',
  'sk_' + 'test_' + '4eC39HqLyjWDarjtT1zdp7dc',
  'sk_' + 'test_' + 'BQokikJOvBiI2HlWgH4olfQ2',
  'sk_' + 'test_' + '26PHem9AhJZvU623DfE1x4sd',
  'rk_' + 'test_' + '26PHem9AhJZvU623DfE1x4sd',
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.' + 'eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.' +
    'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
]);

/** True for documented example keys and for token-shaped values that announce themselves as examples. */
export function isDocumentedExample(value: string): boolean {
  return DOCUMENTED_EXAMPLES.has(value) || /EXAMPLE|example/.test(value);
}

/** A value made of one repeated character or a trivial run (`aaaaaaaa`, `12345678`, `abcdefgh`). */
export function isTrivialRun(value: string): boolean {
  if (value.length < 2) return true;
  let same = true, asc = true;
  for (let i = 1; i < value.length && (same || asc); i++) {
    const d = value.charCodeAt(i) - value.charCodeAt(i - 1);
    if (d !== 0) same = false;
    if (d !== 1) asc = false;
  }
  return same || (asc && value.length >= 6);
}

/** Letters in runs joined by single separators: `hearth.completion.enabled`, `app:secret-name`, `x-api-key`. */
const WORD_PATH = /^[A-Za-z]+(?:[._:/-][A-Za-z]+)*$/;

const isUpperCode = (c: number) => c >= 65 && c <= 90;
const isLowerCode = (c: number) => c >= 97 && c <= 122;

/**
 * Whether a camelCase word starts at `i` (inside a run of letters ending at `end`): `authToken` before `T`,
 * `HTTPAuth` before `A` — the last capital of a run that a lower-case letter follows.
 */
function wordStartsAt(s: string, i: number, end: number): boolean {
  const prev = s.charCodeAt(i - 1), c = s.charCodeAt(i);
  if (!isUpperCode(c)) return false;
  return isLowerCode(prev) || (isUpperCode(prev) && i + 1 < end && isLowerCode(s.charCodeAt(i + 1)));
}

/**
 * Could s[start, end) be a word of a name? English words carry vowels, short consonant runs and few of j, q
 * (without u), x and z; a slice of random letters (`Lkjh`, `Xz`, `kqzjvm`) seldom does all of that.
 */
function pronounceable(s: string, start: number, end: number, first: boolean, last: boolean, alone: boolean): boolean {
  const n = end - start;
  if (n === 1 || (n === 2 && last)) return true; // a letter, or a unit at the end: `x`, `timeoutMs`, `perKWh`
  let vowels = 0, run = 0, maxRun = 0, rare = 0, upper = 0;
  for (let i = start; i < end; i++) {
    const code = s.charCodeAt(i);
    if (isUpperCode(code)) upper++;
    const c = code | 32;
    if (c === 97 || c === 101 || c === 105 || c === 111 || c === 117 || c === 121) { vowels++; run = 0; continue; }
    if (++run > maxRun) maxRun = run;
    if (c === 106 || c === 120 || c === 122 || (c === 113 && (s.charCodeAt(i + 1) | 32) !== 117)) rare++;
  }
  if (n <= 4 && upper === n) return true; // an acronym: JWT, HTTP, DB
  if (first && n <= 3 && upper === 0) return true; // a leading abbreviation: dbPassword, jwtSecret
  if (rare > 1) return false;
  // A lone word is held to English proportions (a quarter vowels, no four consonants in a row); a word inside a
  // dotted or camelCase name gets more room (`length`, `substring`), the name's structure being evidence too.
  return alone ? vowels * 4 >= n && maxRun <= 3 : vowels * 6 >= n && maxRun <= (n >= 6 ? 4 : 3);
}

/** Separators of WORD_PATH by character code: . _ : / - */
const isSeparatorCode = (c: number) => c === 46 || c === 95 || c === 58 || c === 47 || c === 45;

/**
 * Values that read as an identifier — a settings key, a header name, a constant's own name (`hearth.completion.enabled`,
 * `auth.session.token`, `x-api-key`, `apiKey`) — rather than a credential: letters and separators only, no digits,
 * and every word pronounceable. Random-letter secrets (`qwXzPoiRtyLkjhBv`) fail on some word. Index arithmetic
 * rather than split and replace: it runs on every candidate value under a secret-like name.
 */
export function isWordLikeIdentifier(value: string): boolean {
  const n = value.length;
  if (n > 100 || !WORD_PATH.test(value)) return false;
  let separated = false;
  for (let i = 0; i < n && !separated; i++) separated = isSeparatorCode(value.charCodeAt(i));
  for (let segStart = 0; segStart < n;) {
    let segEnd = segStart;
    while (segEnd < n && !isSeparatorCode(value.charCodeAt(segEnd))) segEnd++;
    const len = segEnd - segStart;
    // `x`, `db`, `grpc` between separators: abbreviations.
    if (!separated || len > 4) {
      let words = 1;
      for (let i = segStart + 1; i < segEnd; i++) if (wordStartsAt(value, i, segEnd)) words++;
      // One unbroken run longer than common words is likelier a passphrase (`correcthorsebatterystaple`) than a name.
      if (!separated && words === 1 && len > 20) return false;
      // camelCase words average several letters; random mixed case falls apart into pairs (`Xz`, `Bv`, `Rt`).
      if (words > 1 && len < 2.5 * words) return false;
      const alone = !separated && words === 1;
      for (let ws = segStart, k = 0; ws < segEnd; k++) {
        let we = ws + 1;
        while (we < segEnd && !wordStartsAt(value, we, segEnd)) we++;
        if (!pronounceable(value, ws, we, k === 0, we === segEnd, alone)) return false;
        ws = we;
      }
    }
    segStart = segEnd + 1;
  }
  return true;
}
