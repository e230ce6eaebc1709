/**
 * Record ↔ export line mapping, one record at a time, so exporters stream a million records in constant memory.
 * CSV follows RFC 4180 (CRLF, quotes doubled) and guards against spreadsheet formula injection.
 */
import type { LedgerRecord } from './ledgerRecord';

/** CSV columns, in order. Text fields (opt-in) are exported only by JSON, which keeps them structured. */
export const CSV_COLUMNS = [
  'schemaVersion', 'seq', 'id', 'time', 'kind', 'workspace', 'lane', 'model', 'backend', 'quantization', 'machineProfileId',
  'tokensIn', 'tokensOut', 'timeToFirstTokenMs', 'totalMs', 'outcome', 'charsSuggested', 'charsAccepted', 'linesAccepted',
  'destination', 'provider', 'redactions', 'estimatedCost', 'incident', 'refersTo', 'prevHash',
  // Schema 2, appended so the older columns keep their places in existing spreadsheets.
  'modelMs', 'waitMs', 'blockedBy', 'rule',
  // Engine speed (issue #17), appended likewise.
  'threads', 'lookupAcceptance',
] as const;

export type CsvColumn = (typeof CSV_COLUMNS)[number];

const NEEDS_QUOTES = /[",\r\n]/;
/** A cell a spreadsheet would run as a formula. Numbers never reach here (they are written as numbers). */
const FORMULA = /^[=+\-@\t\r]/;

/** One CSV cell: quoted when needed; a string that starts like a formula gets a leading `'`. */
export function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  let s = String(v);
  if (FORMULA.test(s)) s = `'${s}`;
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The header line, with its CRLF. */
export function csvHeader(): string {
  return CSV_COLUMNS.join(',') + '\r\n';
}

/** `secret=2;email=1`: redaction counts by category in one cell. */
function redactionCell(r: Record<string, number> | undefined): string | undefined {
  if (!r) return undefined;
  const parts = Object.keys(r).sort().map((k) => `${k}=${r[k]}`);
  return parts.length ? parts.join(';') : undefined;
}

/** One record as one CSV line, with its CRLF. */
export function recordToCsvLine(r: LedgerRecord): string {
  const t = r.kind === 'task' ? r : undefined;
  const cells: unknown[] = [
    r.schemaVersion, r.seq, r.id, r.time, r.kind, r.workspace, r.lane, r.model, t?.backend, t?.quantization, t?.machineProfileId,
    t?.tokensIn, t?.tokensOut, t?.timeToFirstTokenMs, t?.totalMs, t?.outcome, t?.charsSuggested, t?.charsAccepted, t?.linesAccepted,
    t?.destination, t?.provider, redactionCell(t?.redactions), t?.estimatedCost, r.incident, r.kind === 'incident' ? r.refersTo : undefined, r.prevHash,
    t?.modelMs, t?.waitMs, t?.blockedBy, t?.rule,
    t?.threads, t?.lookupAcceptance,
  ];
  let line = '';
  for (let i = 0; i < cells.length; i++) line += (i ? ',' : '') + csvCell(cells[i]);
  return line + '\r\n';
}

/** A JSON array written element by element: `[`, then each record, then `]`. */
export const JSON_ARRAY_OPEN = '[\n';
export const JSON_ARRAY_CLOSE = '\n]\n';

/** One record as an element of the streamed JSON array; `first` decides the leading comma. */
export function recordToJsonElement(r: LedgerRecord, first: boolean): string {
  return (first ? '' : ',\n') + JSON.stringify(r);
}
