/**
 * One shared scan for digit runs, feeding the number-shaped detectors (phones, cards, SSNs, NINOs, IPv4).
 *
 * Each of those detectors used to run its regex over the whole text. Every one of their regexes consumes only
 * digits and a few separators (space, `.()+-`), so a match always lies inside one maximal run of those characters
 * — a "region". A regex run over a region's substring finds exactly the matches the whole-text scan finds there
 * (its greedy matches cannot extend past the region, and no match spans two regions), and a region with fewer
 * digits, characters or separators than the regex needs cannot hold a match at all. So the detectors
 * keep their regexes and validators unchanged and only look where a match is possible; source code is full of
 * short numbers, which the digit and length minimums skip without running any regex.
 */

/**
 * Runs of digits, spaces and `.()+-` that hold at least three digits. One regex pass finds them from their first
 * digit to the end of the run (separators and digits are disjoint, so the pattern never backtracks; a run with fewer
 * than three digits fails at each of its digits).
 */
const REGION = /\d[ .()+-]*\d[ .()+-]*\d[\d .()+-]*/g;

/** Separator flags of a region, so a detector skips regions without the separator its regex requires. */
export const HAS_PLUS = 1, HAS_DOT = 2, HAS_DASH = 4, HAS_SPACE = 8;

interface Regions {
  text: string;
  /** start, end, digit count and flags of each region with a `+`, flattened (the only ones international phones need). */
  plus: number[];
  /** The same for regions with at least {@link MANY_DIGITS} digits (all that the other regexes can match in). */
  many: number[];
}

/** The fewest digits any regex but the international phone one needs (IPv4 `10.0.0.1`). */
const MANY_DIGITS = 5;

// Detectors run synchronously over one text at a time: a one-entry cache shares the scan between them.
let cache: Regions | undefined;

/** Drops the cached scan (and with it the reference to the text): the redactor calls it after each scan. */
export function releaseNumberRegions(): void {
  cache = undefined;
}

function regionsOf(text: string): Regions {
  if (cache && cache.text === text) return cache;
  const plus: number[] = [], many: number[] = [];
  const re = REGION;
  re.lastIndex = 0;
  // test() rather than exec(): no match object per region. The region is read back from its end: a match runs to
  // the end of its run and starts at the run's first digit, so the run is everything before the end that is a digit
  // or a separator.
  while (re.test(text)) {
    const e = re.lastIndex;
    let s = e, digits = 0, flags = 0;
    while (s > 0) {
      const c = text.charCodeAt(s - 1);
      if (c >= 48 && c <= 57) digits++;
      else if (c === 32) flags |= HAS_SPACE;
      else if (c === 46) flags |= HAS_DOT;
      else if (c === 45) flags |= HAS_DASH;
      else if (c === 43) flags |= HAS_PLUS;
      else if (c !== 40 && c !== 41) break;
      s--;
    }
    if (flags & HAS_PLUS) plus.push(s, e, digits, flags);
    if (digits >= MANY_DIGITS) many.push(s, e, digits, flags);
  }
  cache = { text, plus, many };
  return cache;
}

export interface RegionFilter {
  /** Fewest digits a match needs (at least 5 unless `all` holds HAS_PLUS). */
  minDigits: number;
  /** Fewest characters a match needs, `tail` included. */
  minLength: number;
  /** Separators that every match holds (HAS_*). */
  all?: number;
  /** Separators of which every match holds at least one. */
  any?: number;
  /** Characters a match may take after the region (the letter that ends a NINO). */
  tail?: number;
  /** A test of the character right after the region, when every match must end on it. */
  endsOn?: (code: number) => boolean;
}

/**
 * Runs the global regex `re` over every region that passes `filter`, calling `onMatch` with matches whose `index`
 * is an offset into the whole text. `re` must consume only digits, spaces and `.()+-` (except for at most
 * `filter.tail` characters after the last of them), and use no anchors, lookarounds or \b.
 */
export function execInNumberRegions(text: string, filter: RegionFilter, re: RegExp, onMatch: (m: RegExpExecArray) => void): void {
  const { minDigits, minLength, all = 0, any = 0, tail = 0, endsOn } = filter;
  const regions = regionsOf(text);
  const data = all & HAS_PLUS ? regions.plus : regions.many;
  if (minDigits < MANY_DIGITS && data !== regions.plus) throw new Error('number regions keep only runs of 5 digits or more');
  for (let k = 0; k < data.length; k += 4) {
    const flags = data[k + 3]!;
    if (data[k + 2]! < minDigits || (flags & all) !== all || (any !== 0 && (flags & any) === 0)) continue;
    const s = data[k]!, end = data[k + 1]!;
    if (endsOn && !endsOn(text.charCodeAt(end))) continue;
    const e = Math.min(text.length, end + tail);
    if (e - s < minLength) continue;
    const sub = text.slice(s, e);
    re.lastIndex = 0;
    for (let m = re.exec(sub); m; m = re.exec(sub)) {
      m.index += s;
      onMatch(m);
    }
  }
}
