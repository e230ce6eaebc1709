import type * as vscode from 'vscode';
import type { Lane, Outcome } from '../../common/ledger/ledgerEnums';

/** A task a feature wrote to a ledger: enough to flag it as an incident later. */
export interface RecordedTask {
  /** The record's id, as `LedgerSink.append` returned it. */
  id: string;
  /** The document (or, for chat, the workspace folder) whose ledger holds the record. */
  uri: vscode.Uri;
  lane: Lane;
  model: string;
  time: string;
  outcome: Outcome;
}

/** Anything that records tasks (completions now; chat and escalation later). */
export interface RecordedTaskSource {
  readonly lastTask: RecordedTask | undefined;
}

/** The most recent task across sources. */
export function latestTask(sources: readonly RecordedTaskSource[]): RecordedTask | undefined {
  let best: RecordedTask | undefined;
  for (const s of sources) {
    const t = s.lastTask;
    if (t && (!best || t.time >= best.time)) best = t;
  }
  return best;
}
