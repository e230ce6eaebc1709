/**
 * Personal data: emails, phone numbers, payment cards (Luhn), national ids (US SSN, UK NINO, Canadian SIN, Spanish
 * DNI/NIE), IBANs (mod 97), internal IP addresses. Each detector validates what it matches (checksums, number
 * ranges, boundaries) because source code is full of digit runs that are not personal data.
 */
import { IBAN_LENGTHS, ibanChecksumValid, luhnValid } from './valueChecks';
import { isPublishedTestCard } from './harmlessValues';
import { PRIORITY, type Detector, type Emit, type ScanContext } from './detector';
import { execInNumberRegions, HAS_DASH, HAS_DOT, HAS_PLUS, HAS_SPACE, type RegionFilter } from './numberScan';

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
/** [A-Za-z0-9_] by character code (one character; a regex call per character cost more than the check). */
const isWordCode = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
const isAlnum = (c: string | undefined) => c !== undefined && c.length === 1 && isWordCode(c.charCodeAt(0));
/** [A-Za-z0-9._%+-] by character code. */
const isEmailLocalCode = (c: number) => isWordCode(c) || c === 46 || c === 37 || c === 43 || c === 45;

const EMAIL_DOMAIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.([A-Za-z]{2,24})/;
/** Domains reserved for documentation and tests (RFC 2606/6761) and addresses that belong to no person. */
const NON_PERSONAL_DOMAIN = /(?:^|\.)(?:example\.(?:com|org|net)|example|test|invalid|localhost|local|users\.noreply\.github\.com|gserviceaccount\.com)$/i;
const FILE_TLD = /^(?:png|jpe?g|gif|svg|webp|ico|bmp|avif|js|mjs|cjs|ts|tsx|jsx|css|scss|json|map|html|md|txt|woff2?|ttf|eot|mp4|webm|pdf|zip|gz|tgz)$/i;

/** Whether the '@' at `at` ends the userinfo of a URL: `://` before it on the same token, no path in between. */
function inUrlAuthority(text: string, at: number): boolean {
  // Within 300 characters only (a search of the whole prefix per '@' would not stay linear).
  const from = Math.max(0, at - 300);
  const w = text.slice(from, at).lastIndexOf('://');
  if (w < 0) return false;
  const p = from + w;
  let colon = false;
  for (let i = p + 3; i < at; i++) {
    const c = text[i];
    if (c === ' ' || c === '\n' || c === '\t' || c === '"' || c === '\'' || c === '`' || c === '<' || c === '>') return false;
    if (c === ':') colon = true;
    else if (c === '/' && !colon) return false; // a path before any password: `https://host/@user`
  }
  return true;
}

const emails: Detector = {
  id: 'email',
  categories: ['email'],
  detect(ctx, emit) {
    const { text } = ctx;
    let lastEnd = 0;
    for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
      if (at < lastEnd) continue;
      let s = at;
      while (s > lastEnd && at - s < 64 && isEmailLocalCode(text.charCodeAt(s - 1))) s--;
      while (s < at && (text[s] === '.' || text[s] === '-' || text[s] === '+')) s++;
      if (s === at) continue;
      // `scheme://user:pass@host`, `https://<key>@o1.ingest.sentry.io`: a URL's userinfo and host, not an address.
      if (inUrlAuthority(text, at)) continue;
      const m = EMAIL_DOMAIN.exec(text.slice(at + 1, at + 256));
      if (!m) continue;
      const end = at + 1 + m[0].length;
      if (isAlnum(text[end]) || text[end] === '@') continue;
      const local = text.slice(s, at).toLowerCase();
      const domain = m[0];
      if (FILE_TLD.test(m[1]!) || NON_PERSONAL_DOMAIN.test(domain)) continue;
      if (local === 'git' || /^(?:no-?reply|do-?not-?reply|mailer-daemon|postmaster)$/.test(local)) continue;
      if (ctx.isAllowed(text.slice(s, end))) continue;
      emit({ category: 'email', start: s, end, priority: PRIORITY.pii });
      lastEnd = end;
    }
  },
};

function emitRegex(ctx: ScanContext, emit: Emit, re: RegExp, category: string, accept: (m: RegExpExecArray) => [number, number] | undefined) {
  // Module-level regexes are reused: detectors run synchronously and never re-enter.
  const r = re;
  r.lastIndex = 0;
  for (let m = r.exec(ctx.text); m; m = r.exec(ctx.text)) {
    const span = accept(m);
    if (span && !ctx.isAllowed(ctx.text.slice(span[0], span[1]))) emit({ category, start: span[0], end: span[1], priority: PRIORITY.pii });
  }
}

/**
 * Like {@link emitRegex}, but only inside the number regions of `set` that can hold a match (see numberScan.ts):
 * the same matches, without running the regex over text that has no digits where it needs them.
 */
function emitNumberRegex(ctx: ScanContext, emit: Emit, filter: RegionFilter, re: RegExp, category: string, accept: (m: RegExpExecArray) => [number, number] | undefined) {
  execInNumberRegions(ctx.text, filter, re, (m) => {
    const span = accept(m);
    if (span && !ctx.isAllowed(ctx.text.slice(span[0], span[1]))) emit({ category, start: span[0], end: span[1], priority: PRIORITY.pii });
  });
}

// What each regex needs of a region (digits, length, separators): see the regexes below.
const INTL_REGIONS: RegionFilter = { minDigits: 3, minLength: 4, all: HAS_PLUS };
const NANP_REGIONS: RegionFilter = { minDigits: 10, minLength: 11, any: HAS_DOT | HAS_DASH };
const UK_REGIONS: RegionFilter = { minDigits: 9, minLength: 11 };
const FR_REGIONS: RegionFilter = { minDigits: 10, minLength: 14, any: HAS_SPACE | HAS_DOT };
const CARD_REGIONS: RegionFilter = { minDigits: 13, minLength: 13 };
const SSN_REGIONS: RegionFilter = { minDigits: 9, minLength: 11, all: HAS_DASH };
/** The suffix letter is no separator, so it is the character right after the region. */
const NINO_REGIONS: RegionFilter = { minDigits: 6, minLength: 7, tail: 1, endsOn: (c) => c >= 65 && c <= 68 };
const IPV4_REGIONS: RegionFilter = { minDigits: 5, minLength: 8, all: HAS_DOT };
const SIN_REGIONS: RegionFilter = { minDigits: 9, minLength: 11, any: HAS_DASH | HAS_SPACE };
const BARE_SIN_REGIONS: RegionFilter = { minDigits: 9, minLength: 9 };
/** Like the NINO, the control letter is the character right after the region (no I, O or U in the alphabet). */
const DNI_REGIONS: RegionFilter = { minDigits: 7, minLength: 8, tail: 1, endsOn: (c) => c >= 65 && c <= 90 && c !== 73 && c !== 79 && c !== 85 };

/** Not part of a longer number, version, identifier or dotted quad. */
function numberBoundary(text: string, start: number, end: number): boolean {
  const b = text[start - 1], a = text[end];
  if (isAlnum(b) || isAlnum(a)) return false;
  if ((b === '.' || b === '-' || b === '/') && isDigit(text[start - 2])) return false;
  if ((a === '.' || a === '-' || a === '/') && isDigit(text[end + 1])) return false;
  return true;
}

const INTL_PHONE = /\+[1-9]\d{0,2}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,5}){2,6}/g;
const NANP_PHONE = /\(?[2-9]\d{2}\)?[ .-]?[2-9]\d{2}[.-]\d{4}/g;
const UK_PHONE = /0(?:7\d{3} ?\d{3} ?\d{3}|[12]\d{1,3} \d{3,4} \d{3,4})/g;
const FR_PHONE = /0[1-9](?:[ .]\d{2}){4}/g;

const phones: Detector = {
  id: 'phone',
  categories: ['phone-number'],
  detect(ctx, emit) {
    const { text } = ctx;
    if (text.includes('+')) {
      emitNumberRegex(ctx, emit, INTL_REGIONS, INTL_PHONE, 'phone-number', (m) => {
        const start = m.index, end = start + m[0].length;
        const digits = m[0].replace(/\D/g, '');
        if (digits.length < 8 || digits.length > 15) return undefined;
        const b = text[start - 1];
        if (isAlnum(b) || b === ')' || b === ']' || b === '+') return undefined;
        if (!numberBoundary(text, start, end)) return undefined;
        // `1 +1234567890`-style arithmetic rarely has separators; a phone number usually does or is E.164 length.
        if (!/[ .()-]/.test(m[0]) && digits.length < 10) return undefined;
        return [start, end];
      });
    }
    emitNumberRegex(ctx, emit, NANP_REGIONS, NANP_PHONE, 'phone-number', (m) => {
      let start = m.index;
      const end = start + m[0].length;
      const s = m[0];
      if (s.startsWith('(') !== /^\(\d{3}\)/.test(s)) return undefined; // unbalanced parenthesis
      if (!s.startsWith('(') && /^\d{3}\)/.test(s)) return undefined;
      if (s.startsWith('(')) { if (isAlnum(text[start - 1])) return undefined; }
      else if (!numberBoundary(text, start, end)) return undefined;
      if (isDigit(text[end]) || (text[end] === '.' && isDigit(text[end + 1]))) return undefined;
      // +1 country code in front is part of the number
      if (text[start - 1] === ' ' && text.slice(start - 3, start - 1) === '+1') start -= 3;
      return [start, end];
    });
    emitNumberRegex(ctx, emit, UK_REGIONS, UK_PHONE, 'phone-number', (m) => (numberBoundary(text, m.index, m.index + m[0].length) ? [m.index, m.index + m[0].length] : undefined));
    emitNumberRegex(ctx, emit, FR_REGIONS, FR_PHONE, 'phone-number', (m) => (numberBoundary(text, m.index, m.index + m[0].length) ? [m.index, m.index + m[0].length] : undefined));
  },
};

const CARD = /[2-6]\d{3}(?:[ -]?\d){9,15}/g;

function cardIssuer(d: string): boolean {
  return /^(?:4\d{12}(?:\d{3}){0,2}|5[1-5]\d{14}|2(?:2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)\d{12}|3[47]\d{13}|3(?:0[0-5]|[68]\d)\d{11,16}|6(?:011|5\d\d)\d{12,15}|64[4-9]\d{13,16}|35(?:2[89]|[3-8]\d)\d{12,15}|62\d{14,17})$/.test(d);
}

const cards: Detector = {
  id: 'credit-card',
  categories: ['credit-card'],
  detect(ctx, emit) {
    const { text } = ctx;
    emitNumberRegex(ctx, emit, CARD_REGIONS, CARD, 'credit-card', (m) => {
      const start = m.index;
      if (isAlnum(text[start - 1]) || ((text[start - 1] === '.' || text[start - 1] === '-') && isDigit(text[start - 2]))) return undefined;
      // The match may run into the next number ("4111 1111 1111 1111 2025"): try each group boundary, longest first.
      const groups = m[0].split(/(?<=\d)(?=[ -])/);
      const sep = /[ -]/.exec(m[0])?.[0];
      for (let k = groups.length; k >= 1; k--) {
        const span = groups.slice(0, k).join('');
        if (sep && span.includes(sep === ' ' ? '-' : ' ')) continue; // mixed separators
        const digits = span.replace(/\D/g, '');
        if (digits.length < 13 || digits.length > 19) continue;
        const end = start + span.length;
        if (isAlnum(text[end]) || ((text[end] === '.' || text[end] === '-') && isDigit(text[end + 1]))) continue;
        if (isPublishedTestCard(digits)) return undefined;
        if (cardIssuer(digits) && luhnValid(digits)) return [start, end];
      }
      return undefined;
    });
  },
};

const SSN = /\d{3}-\d{2}-\d{4}/g;
/** Anchored on the digits, which are rarer than capitals, with the two prefix letters checked behind them. */
const NINO = /\d{2} ?\d{2} ?\d{2} ?[A-D]/g;
const NINO_PREFIX = /^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?$/;
const SSN_CONTEXT = /(?:ssn|social security|social_security|socialsecurity)\D{0,20}(\d{9})(?!\d)/gi;

function ssnValid(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  return a !== 0 && a !== 666 && a < 900 && group !== '00' && serial !== '0000';
}

const nationalIds: Detector = {
  id: 'national-id',
  categories: ['us-ssn', 'uk-nino'],
  detect(ctx, emit) {
    const { text } = ctx;
    if (text.includes('-')) {
      emitNumberRegex(ctx, emit, SSN_REGIONS, SSN, 'us-ssn', (m) => {
        const start = m.index, end = start + m[0].length;
        if (!numberBoundary(text, start, end)) return undefined;
        const s = m[0];
        return ssnValid(s.slice(0, 3), s.slice(4, 6), s.slice(7)) ? [start, end] : undefined;
      });
    }
    emitNumberRegex(ctx, emit, NINO_REGIONS, NINO, 'uk-nino', (m) => {
      const start = m.index - (text[m.index - 1] === ' ' ? 3 : 2), end = m.index + m[0].length;
      if (start < 0 || !NINO_PREFIX.test(text.slice(start, m.index))) return undefined;
      const whole = text.slice(start, end);
      if (isAlnum(text[start - 1]) || isAlnum(text[end])) return undefined;
      if (/^(?:BG|GB|NK|KN|TN|NT|ZZ)/.test(whole)) return undefined;
      const spaces = (whole.match(/ /g) ?? []).length;
      return spaces === 0 || spaces === 4 ? [start, end] : undefined;
    });
  },
};

/** Nine digits after an SSN label; the combined keyword prefilter decides whether the label occurs at all. */
const ssnByContext: Detector = {
  id: 'national-id-context',
  categories: ['us-ssn'],
  keywords: ['ssn', 'SSN', 'Ssn', 'social', 'Social', 'SOCIAL'],
  detect(ctx, emit) {
    const { text } = ctx;
    emitRegex(ctx, emit, SSN_CONTEXT, 'us-ssn', (m) => {
      const d = m[1]!;
      const end = m.index + m[0].length, start = end - 9;
      return ssnValid(d.slice(0, 3), d.slice(3, 5), d.slice(5)) && numberBoundary(text, start, end) ? [start, end] : undefined;
    });
  },
};

/** `ddd ddd ddd` or `ddd-ddd-ddd`: one separator throughout. */
const SIN = /\d{3}-\d{3}-\d{3}|\d{3} \d{3} \d{3}/g;
/** Nine bare digits, a SIN only after a label (checked by {@link SIN_LABEL}). */
const BARE_SIN = /\d{9}/g;
/**
 * A SIN label ending at most 20 non-digits before the number: `SIN`, `NAS` (the French name), `sin:` / `"sin" =`
 * (a bare lower-case `sin` is mostly trigonometry), `social insurance`. Run on a short window that ends at the digits.
 */
const SIN_LABEL = /(?:(?<![A-Za-z])(?:SIN|NAS)(?![A-Za-z])|(?<![A-Za-z])sin(?=["'`]? ?[:=])|[Ss]ocial[ _-]?[Ii]nsurance|SOCIAL[ _-]?INSURANCE)[^\d\n]{0,20}$/;

/** First digit 0 is unassigned and 8 marks business numbers; the rest carry a Luhn check digit. */
function sinValid(digits: string): boolean {
  return digits[0] !== '0' && digits[0] !== '8' && luhnValid(digits);
}

/** A formatted SIN anywhere; a space-separated one only when it is not one group of a longer list of numbers. */
const canadianSins: Detector = {
  id: 'ca-sin',
  categories: ['ca-sin'],
  detect(ctx, emit) {
    const { text } = ctx;
    emitNumberRegex(ctx, emit, SIN_REGIONS, SIN, 'ca-sin', (m) => {
      const start = m.index, end = start + m[0].length;
      if (!numberBoundary(text, start, end)) return undefined;
      if (m[0][3] === ' ' && ((text[start - 1] === ' ' && isDigit(text[start - 2])) || (text[end] === ' ' && isDigit(text[end + 1])))) return undefined;
      return sinValid(m[0].replace(/\D/g, '')) ? [start, end] : undefined;
    });
  },
};

/** Nine bare digits after a SIN label, like {@link ssnByContext}; the keywords are the labels' literals. */
const sinByContext: Detector = {
  id: 'ca-sin-context',
  categories: ['ca-sin'],
  keywords: ['SIN', 'NAS', 'sin:', 'sin=', 'sin :', 'sin =', 'sin"', "sin'", 'sin`', 'social', 'Social', 'SOCIAL'],
  detect(ctx, emit) {
    const { text } = ctx;
    emitNumberRegex(ctx, emit, BARE_SIN_REGIONS, BARE_SIN, 'ca-sin', (m) => {
      const start = m.index, end = start + 9;
      if (!numberBoundary(text, start, end) || !sinValid(m[0])) return undefined;
      // The label's window: 40 characters back, cut at a newline (found within them, so the search stays short).
      const window = text.slice(Math.max(0, start - 40), start);
      return SIN_LABEL.test(window.slice(window.lastIndexOf('\n') + 1)) ? [start, end] : undefined;
    });
  },
};

/** DNI: 8 digits and a control letter; NIE: X, Y or Z (0, 1, 2 for the checksum), 7 digits and the letter. */
const DNI = /\d{7,8}[ -]?[A-HJ-NP-TV-Z]/g;
const DNI_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

const spanishIds: Detector = {
  id: 'es-dni',
  categories: ['es-dni'],
  detect(ctx, emit) {
    const { text } = ctx;
    emitNumberRegex(ctx, emit, DNI_REGIONS, DNI, 'es-dni', (m) => {
      const s = m[0];
      const letter = s[s.length - 1]!;
      const digits = s.replace(/\D/g, '');
      let start = m.index;
      const end = start + s.length;
      let n = Number(digits);
      if (digits.length === 7) {
        const prefix = 'XYZ'.indexOf(text[start - 1] ?? '');
        if (prefix < 0) return undefined;
        start--;
        n += prefix * 1e7;
      }
      if (isAlnum(text[start - 1]) || isAlnum(text[end])) return undefined;
      if ((text[start - 1] === '.' || text[start - 1] === '-' || text[start - 1] === '/') && isDigit(text[start - 2])) return undefined;
      return DNI_LETTERS[n % 23] === letter ? [start, end] : undefined;
    });
  },
};

const IBAN = /\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?/g;
const isUpper = (c: string | undefined) => c !== undefined && c >= 'A' && c <= 'Z';

const ibans: Detector = {
  id: 'iban',
  categories: ['iban'],
  detect(ctx, emit) {
    const { text } = ctx;
    emitRegex(ctx, emit, IBAN, 'iban', (m) => {
      const start = m.index - 2;
      if (!isUpper(text[start]) || !isUpper(text[start + 1]) || isAlnum(text[start - 1])) return undefined;
      // Try the longest candidate first; the greedy match may have swallowed a following word.
      const parts = (text.slice(start, m.index) + m[0]).split(' ');
      for (let k = parts.length; k >= 1; k--) {
        const span = parts.slice(0, k).join(' ');
        const compact = span.replace(/ /g, '');
        const want = IBAN_LENGTHS[compact.slice(0, 2)];
        if (want !== undefined ? compact.length !== want : compact.length < 15 || compact.length > 34) continue;
        if (parts.length === 1 && k === 1 && isAlnum(text[start + span.length])) continue;
        if (isAlnum(text[start + span.length])) continue;
        if (ibanChecksumValid(compact)) return [start, start + span.length];
      }
      return undefined;
    });
  },
};

/** Eight characters at least (so five digits: what number regions keep); `1.2.3.4` is seldom anyone's address. */
const IPV4 = /(?=[\d.]{8})\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/g;
const IPV6_ULA = /[fF][cdCD][0-9a-fA-F]{2}:[0-9a-fA-F:]{2,40}/g;

/** Logs, data exports and dumps: where a public address is a person's (a client's), not a server's. */
const DATA_FILE = /\.(?:log|csv|tsv|sql|jsonl|ndjson|dump|har)(?:\.\d+|\.gz)?$|(?:^|[\\/])(?:access|error|audit)[._-]?log/i;
/** A name before the address that says whose it is: `client_ip=`, `"remote_addr": `, `X-Forwarded-For: `. */
const ADDRESS_NAME = /(?:ip|addr|address|client|remote|forwarded[-_]for|real[-_]ip|peer|source|src|from|user[-_]?ip|login[-_]?ip)["']?\s*[:=]?\s*["']?$/i;
/** Resolvers and other addresses everyone publishes: no person behind them. */
const WELL_KNOWN_IPV4 = new Set(['8.8.8.8', '8.8.4.4', '1.1.1.1', '1.0.0.1', '9.9.9.9', '149.112.112.112', '208.67.222.222', '208.67.220.220', '4.2.2.2', '4.2.2.1']);

/** Whether a public IPv4 address sits where it names a person: a data file, or after an address-like name. */
function personalAddressContext(ctx: ScanContext, start: number): boolean {
  const before = ctx.text.slice(Math.max(0, start - 30), start);
  if (ADDRESS_NAME.test(before)) return true;
  // In a log a server is named as where something went (`retry to 52.1.2.3`, `upstream: …`); a client opens the line.
  return ctx.fileName !== undefined && DATA_FILE.test(ctx.fileName) && !SERVER_BEFORE.test(before);
}

/** Words before an address that make it the destination (a server), not the client. */
const SERVER_BEFORE = /\b(?:to|upstream|server|host|hostname|connect(?:ing|ed)?|dial(?:ing)?|resolved?|resolver|dns|proxy|via|endpoint|backend|target|peer|nameserver|gateway)\b\W{0,4}$/i;

/** Public IPv4 outside reserved, documentation, multicast and well-known ranges. */
function isPublicIpv4(o: readonly number[], dotted: string): boolean {
  const [a, b, c] = o as [number, number, number];
  if (a === 0 || a === 127 || a >= 224 || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127)) return false;
  if ((a === 192 && b === 0 && (c === 2 || c === 0)) || (a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113) || (a === 198 && (b === 18 || b === 19))) return false;
  return !WELL_KNOWN_IPV4.has(dotted);
}

const IPV6_GLOBAL = /[23][0-9a-fA-F]{3}:[0-9a-fA-F:]{2,36}/g;

const internalIps: Detector = {
  id: 'internal-ip',
  categories: ['internal-ip', 'ip-address'],
  detect(ctx, emit) {
    const { text } = ctx;
    execInNumberRegions(text, IPV4_REGIONS, IPV4, (m) => {
      const start = m.index, end = start + m[0].length;
      const b = text[start - 1], a = text[end];
      if (isAlnum(b) || b === '.' || isAlnum(a) || (a === '.' && isDigit(text[end + 1]))) return;
      if (b === 'v' || b === 'V') return; // v10.1.2.3 is a version
      const o = m[0].split('.').map(Number);
      if (o.some((x) => x > 255)) return;
      const [a0, a1] = o as [number, number];
      const internal = a0 === 10 || (a0 === 172 && a1 >= 16 && a1 <= 31) || (a0 === 192 && a1 === 168);
      let category: string | undefined = internal ? 'internal-ip' : undefined;
      if (!internal && isPublicIpv4(o, m[0]) && personalAddressContext(ctx, start) && !/version|ver\b|\bv$/i.test(text.slice(Math.max(0, start - 12), start))) category = 'ip-address';
      if (category && !ctx.isAllowed(m[0])) emit({ category, start, end, priority: PRIORITY.pii });
    });
    if (text.includes('::') || /[fF][cdCD][0-9a-fA-F]{2}:/.test(text)) {
      emitRegex(ctx, emit, IPV6_ULA, 'internal-ip', (m) => ipv6Span(text, m.index, m[0]));
    }
    // Global IPv6 addresses of clients: in data files only (source holds many hex-and-colon strings).
    if (ctx.fileName !== undefined && DATA_FILE.test(ctx.fileName)) {
      emitRegex(ctx, emit, IPV6_GLOBAL, 'ip-address', (m) => {
        const span = ipv6Span(text, m.index, m[0]);
        if (!span || /^2001:0?db8:/i.test(m[0])) return undefined;
        return span;
      });
    }
  },
};

/** The span of an IPv6 address written at `start` (trailing single colons dropped), or undefined when malformed. */
function ipv6Span(text: string, start: number, match: string): [number, number] | undefined {
  let s = match;
  while (s.endsWith(':') && !s.endsWith('::')) s = s.slice(0, -1);
  const end = start + s.length;
  if (isAlnum(text[start - 1]) || text[start - 1] === ':' || isAlnum(text[end])) return undefined;
  const groups = s.split(':');
  if (groups.some((g) => g.length > 4)) return undefined;
  const double = s.includes('::');
  if (!(double ? groups.length >= 3 && groups.length <= 8 : groups.length === 8)) return undefined;
  if (s.split('::').length > 2) return undefined;
  return [start, end];
}

/** The number regexes with the regions they run in, for the test that the regions lose no match. */
export const NUMBER_PATTERNS: ReadonlyArray<[string, RegExp, RegionFilter]> = [
  ['intl-phone', INTL_PHONE, INTL_REGIONS], ['nanp-phone', NANP_PHONE, NANP_REGIONS], ['uk-phone', UK_PHONE, UK_REGIONS],
  ['fr-phone', FR_PHONE, FR_REGIONS], ['card', CARD, CARD_REGIONS], ['ssn', SSN, SSN_REGIONS], ['nino', NINO, NINO_REGIONS],
  ['ipv4', IPV4, IPV4_REGIONS], ['ca-sin', SIN, SIN_REGIONS], ['ca-sin-bare', BARE_SIN, BARE_SIN_REGIONS],
  ['es-dni', DNI, DNI_REGIONS],
];

export const personalDataDetectors: Detector[] = [emails, phones, cards, nationalIds, ssnByContext, canadianSins, sinByContext, spanishIds, ibans, internalIps];
