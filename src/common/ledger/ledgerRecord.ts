/**
 * The ledger record: one schema-versioned JSON line per task (or per incident flag), hash-chained.
 * Parsed with zod at the edge (style rule 6): every line read back from disk goes through {@link parseLedgerLine}.
 */
import { z } from 'zod';
import { isPlainValidTask } from './fastRecordCheck';

import { BLOCKED_BY, DESTINATIONS, INCIDENT_CATEGORIES, LANES, LEDGER_SCHEMA_VERSION, OUTCOMES, ROUTING_REASONS } from './ledgerEnums';

export * from './ledgerEnums';

const count = z.number().int().nonnegative();
const ms = z.number().nonnegative();
/** Short identifiers (model names, providers, categories): bounded so a line stays small. */
const ident = z.string().min(1).max(200);

/**
 * Text is stored only when the workspace policy opts in; the writer drops this field otherwise.
 * Never holds secrets: callers pass the redacted payload.
 */
export const ledgerTextSchema = z.strictObject({
  prompt: z.string().optional(),
  answer: z.string().optional(),
  note: z.string().optional(),
});

/** Fields every record carries: identity, place in the chain, and who/what it is about. */
const base = {
  /** 1 or 2; a version 1 line is read as written (it has none of version 2's fields). */
  schemaVersion: z.union([z.literal(1), z.literal(LEDGER_SCHEMA_VERSION)]),
  /** Unique id (UUID), so an incident can point at the task it flags. */
  id: z.string().min(1).max(64),
  /** Position in the whole ledger, across segments: 0, 1, 2… A gap is a missing record. */
  seq: count,
  /** When the task started (ISO 8601, UTC). */
  time: z.iso.datetime({ offset: true }),
  /** Opaque workspace id (see {@link workspaceId}); never a path. */
  workspace: z.string().min(1).max(128),
  lane: z.enum(LANES),
  model: ident,
  /** Hash (hex) of the previous line exactly as stored; {@link GENESIS_HASH} for the first record. */
  prevHash: z.string().regex(/^[0-9a-f]{16,128}$/),
  text: ledgerTextSchema.optional(),
};

export const taskRecordSchema = z.strictObject({
  ...base,
  kind: z.literal('task'),
  backend: ident.optional(),
  quantization: z.string().max(40).optional(),
  machineProfileId: z.string().max(128).optional(),
  tokensIn: count,
  tokensOut: count,
  timeToFirstTokenMs: ms.nullable().optional(),
  /** Wall time of the whole task; for an escalation it includes the time the user spent in dialogs. */
  totalMs: ms,
  /** Model time: request sent → last token (escalations, schema 2). Absent when nothing was sent. */
  modelMs: ms.optional(),
  /** Time the task waited for the user (question, API key, review) (escalations, schema 2). */
  waitMs: ms.optional(),
  outcome: z.enum(OUTCOMES),
  /** For `outcome: 'blocked'` (schema 2): the family of the rule that blocked it. */
  blockedBy: z.enum(BLOCKED_BY).optional(),
  /** For `outcome: 'blocked'`: the policy's own id of the rule (`neverSend`, `budgetPerMonth`, `insecureHttp`…). */
  rule: ident.optional(),
  /** Characters offered to the user (the denominator of acceptance by characters). */
  charsSuggested: count.optional(),
  charsAccepted: count.optional(),
  linesAccepted: count.optional(),
  /** Completions: mean token log-probability of the suggestion (≤ 0), where the engine reported one. */
  confidence: z.number().max(0).optional(),
  /** Completions: where the suggestion came from (the engine, the cache, or typed through from one on screen). */
  completionSource: z.enum(['engine', 'cache', 'typeThrough']).optional(),
  /** Completions: how the accepted part was taken: Tab, VS Code's accept word / line, or typed along. */
  acceptedVia: z.enum(['tab', 'word', 'line', 'typed']).optional(),
  /** Completions: share of the accepted text still in the file 30 s and 5 min after acceptance (0–1). */
  survival30s: z.number().min(0).max(1).optional(),
  survival5m: z.number().min(0).max(1).optional(),
  destination: z.enum(DESTINATIONS).optional(),
  /** Cloud or team provider for escalations, e.g. `openai`, `anthropic`, `team-vllm`. */
  provider: ident.optional(),
  /** Redactions applied to the payload, by detector category: counts only, never the values. */
  redactions: z.record(z.string().min(1).max(64), count).optional(),
  /**
   * Estimated cost in the ledger's currency (settings; USD by default) at the time of the task. Absent: unknown
   * (no price set), never to be read as 0. A task that sent nothing records 0.
   */
  estimatedCost: z.number().nonnegative().optional(),
  /** Set when an incident is known when the task is recorded (e.g. a policy breach caught on the way out). */
  incident: z.enum(INCIDENT_CATEGORIES).optional(),
  /** Set when the request was routed away from the local answer, and why (confidence, cost cap, policy). */
  routedBy: z.enum(ROUTING_REASONS).optional(),
  /** Local model tasks: llama.cpp threads the engine chose for the request against other processes' load. */
  threads: z.number().int().min(1).max(1024).optional(),
  /** Local model tasks with lookup speculation: share of the drafted tokens that were accepted (0–1). */
  lookupAcceptance: z.number().min(0).max(1).optional(),
});

/**
 * An incident flagged after the fact ("Flag Last Answer as Incident…"). The ledger is append-only, so a flag
 * is its own record pointing at the task; it copies the task's lane and model so aggregates need no lookup.
 */
export const incidentRecordSchema = z.strictObject({
  ...base,
  kind: z.literal('incident'),
  incident: z.enum(INCIDENT_CATEGORIES),
  /** Id of the flagged task record. */
  refersTo: z.string().min(1).max(64),
});

export const ledgerRecordSchema = z.discriminatedUnion('kind', [taskRecordSchema, incidentRecordSchema]);

export type TaskRecord = z.infer<typeof taskRecordSchema>;

/**
 * The engine's speed figures of one request as ledger fields: the threads it chose, and the lookup speculation's
 * acceptance (absent when speculation was off or drafted nothing).
 */
export function speedRecordFields(r: { threads?: number; lookupAccepted?: number; lookupRejected?: number } | undefined): Pick<TaskRecord, 'threads' | 'lookupAcceptance'> {
  if (!r) return {};
  const drafted = (r.lookupAccepted ?? 0) + (r.lookupRejected ?? 0);
  return {
    ...(r.threads !== undefined && r.threads >= 1 ? { threads: r.threads } : {}),
    ...(drafted > 0 ? { lookupAcceptance: (r.lookupAccepted ?? 0) / drafted } : {}),
  };
}
export type IncidentRecord = z.infer<typeof incidentRecordSchema>;
export type LedgerRecord = z.infer<typeof ledgerRecordSchema>;
export type LedgerText = z.infer<typeof ledgerTextSchema>;

/** Fields the writer fills in: version, place in the chain. */
type Filled = 'schemaVersion' | 'seq' | 'prevHash';
/** What callers hand to {@link LedgerSink.append}: `id` and `time` are filled in when absent. */
export type TaskEntry = Omit<TaskRecord, Filled | 'id' | 'time'> & { id?: string; time?: string };
export type IncidentEntry = Omit<IncidentRecord, Filled | 'id' | 'time'> & { id?: string; time?: string };
export type LedgerEntry = TaskEntry | IncidentEntry;
/** A record before the writer places it in the chain. */
export type UnchainedRecord = Omit<TaskRecord, 'seq' | 'prevHash'> | Omit<IncidentRecord, 'seq' | 'prevHash'>;

/** Where a line came from, for messages a reviewer can act on. */
export interface LineLocation {
  file: string;
  line: number;
}

export type ParsedLine =
  | { ok: true; record: LedgerRecord }
  | { ok: false; kind: 'unparseable' | 'invalid' | 'newer-version'; message: string };

/**
 * Parses one stored line. Failure messages name the file and the 1-based line: `ledger.jsonl:12: …`.
 * `unparseable` (not JSON: e.g. a torn write) is told apart from `invalid` (JSON that breaks the schema).
 */
export function parseLedgerLine(text: string, at: LineLocation): ParsedLine {
  const where = `${at.file}:${at.line}`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, kind: 'unparseable', message: `${where}: not a JSON line (${(err as Error).message})` };
  }
  if (json && typeof json === 'object' && typeof (json as { schemaVersion?: unknown }).schemaVersion === 'number' && (json as { schemaVersion: number }).schemaVersion > LEDGER_SCHEMA_VERSION) {
    return { ok: false, kind: 'newer-version', message: `${where}: schemaVersion ${(json as { schemaVersion: number }).schemaVersion} was written by a newer Hearth (this one reads ${LEDGER_SCHEMA_VERSION})` };
  }
  if (isPlainValidTask(json)) return { ok: true, record: json as TaskRecord };
  // Dispatch on `kind` by hand: half the cost of the discriminated union, on the path that exports 1M records.
  const kind = json && typeof json === 'object' ? (json as { kind?: unknown }).kind : undefined;
  const res = kind === 'task' ? taskRecordSchema.safeParse(json) : kind === 'incident' ? incidentRecordSchema.safeParse(json) : ledgerRecordSchema.safeParse(json);
  if (!res.success) {
    const issue = res.error.issues[0]!;
    const path = issue.path.length ? issue.path.join('.') : '(record)';
    return { ok: false, kind: 'invalid', message: `${where}: invalid ledger record: ${path}: ${issue.message}` };
  }
  return { ok: true, record: res.data };
}

/**
 * A stable, opaque workspace id: a prefix of the hash of the folder URI. Paths carry user names and client
 * names, and ledgers get mailed to finance, so the path itself is never stored.
 */
export function workspaceId(folderUri: string, hash: (text: string) => string): string {
  return `ws-${hash(folderUri).slice(0, 16)}`;
}
