/**
 * A fast, conservative pre-check for the hot path (exporting or verifying a million lines): it returns true
 * only for objects the zod schema certainly accepts as they are, and false for anything unusual, which then goes
 * through zod for the verdict and the message. zod stays the one definition: a test checks that this never
 * accepts what zod rejects. About 4× cheaper than zod's strict-object parse.
 */
import { BLOCKED_BY, DESTINATIONS, INCIDENT_CATEGORIES, LANES, LEDGER_SCHEMA_VERSIONS, OUTCOMES, ROUTING_REASONS } from './ledgerEnums';

const lanes = new Set<unknown>(LANES);
const outcomes = new Set<unknown>(OUTCOMES);
const destinations = new Set<unknown>(DESTINATIONS);
const incidents = new Set<unknown>(INCIDENT_CATEGORIES);
const blockedBy = new Set<unknown>(BLOCKED_BY);
const versions = new Set<unknown>(LEDGER_SCHEMA_VERSIONS);
const routingReasons = new Set<unknown>(ROUTING_REASONS);
/** Only the UTC form the writer stores (`toISOString`); anything else goes to zod. */
const ISO_UTC = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;
const HEX = /^[0-9a-f]{64}$/;

const isCount = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isMs = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isIdent = (v: unknown) => typeof v === 'string' && v.length >= 1 && v.length <= 200;
const isStr = (v: unknown, min: number, max: number) => typeof v === 'string' && v.length >= min && v.length <= max;

/** Optional task fields and their checks; a key not listed here (or `text`, `redactions`) sends the record to zod. */
const OPTIONAL: Record<string, (v: unknown) => boolean> = {
  backend: isIdent,
  quantization: (v) => isStr(v, 0, 40),
  machineProfileId: (v) => isStr(v, 0, 128),
  timeToFirstTokenMs: (v) => v === null || isMs(v),
  charsSuggested: isCount,
  charsAccepted: isCount,
  linesAccepted: isCount,
  confidence: (v) => typeof v === 'number' && Number.isFinite(v) && v <= 0,
  completionSource: (v) => v === 'engine' || v === 'cache' || v === 'typeThrough',
  acceptedVia: (v) => v === 'tab' || v === 'word' || v === 'line' || v === 'typed',
  survival30s: (v) => typeof v === 'number' && v >= 0 && v <= 1,
  survival5m: (v) => typeof v === 'number' && v >= 0 && v <= 1,
  destination: (v) => destinations.has(v),
  provider: isIdent,
  estimatedCost: isMs,
  incident: (v) => incidents.has(v),
  modelMs: isMs,
  waitMs: isMs,
  blockedBy: (v) => blockedBy.has(v),
  rule: isIdent,
  routedBy: (v) => routingReasons.has(v),
  threads: (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= 1024,
  lookupAcceptance: (v) => typeof v === 'number' && v >= 0 && v <= 1,
};

const REQUIRED = new Set(['schemaVersion', 'id', 'seq', 'time', 'workspace', 'lane', 'model', 'prevHash', 'kind', 'tokensIn', 'tokensOut', 'totalMs', 'outcome']);

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** The pattern lets 2025-02-31 through; zod does not. */
function realDay(iso: string): boolean {
  const y = +iso.slice(0, 4), m = +iso.slice(5, 7), d = +iso.slice(8, 10);
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= (m === 2 && leap ? 29 : DAYS[m - 1]!);
}

/** True only when `o` is certainly a valid task record. */
export function isPlainValidTask(o: unknown): boolean {
  if (typeof o !== 'object' || o === null || Array.isArray(o) || Object.getPrototypeOf(o) !== Object.prototype) return false;
  const r = o as Record<string, unknown>;
  if (
    r.kind !== 'task' || !versions.has(r.schemaVersion) || !isStr(r.id, 1, 64) || !isCount(r.seq) || typeof r.time !== 'string' || !ISO_UTC.test(r.time) ||
    !isStr(r.workspace, 1, 128) || !lanes.has(r.lane) || !isIdent(r.model) || typeof r.prevHash !== 'string' || !HEX.test(r.prevHash) ||
    !isCount(r.tokensIn) || !isCount(r.tokensOut) || !isMs(r.totalMs) || !outcomes.has(r.outcome)
  ) return false;
  if (!realDay(r.time)) return false;
  let required = 0;
  for (const k in r) {
    if (REQUIRED.has(k)) {
      required++;
      continue;
    }
    const check = Object.hasOwn(OPTIONAL, k) ? OPTIONAL[k] : undefined;
    // `undefined` never survives JSON, but an object built in memory could carry it: leave that to zod.
    if (!check || r[k] === undefined || !check(r[k])) return false;
  }
  return required === REQUIRED.size;
}
