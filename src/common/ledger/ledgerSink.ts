/**
 * The one interface the completion, chat and escalation paths write through. `append` never blocks the caller
 * on disk: the file writer batches, and `flush` resolves when everything appended so far is durable.
 */
import { LEDGER_SCHEMA_VERSION, type LedgerEntry, type LedgerRecord } from './ledgerRecord';

export interface LedgerSink {
  /**
   * Queues one record and returns its id (use it as `refersTo` when flagging the task as an incident).
   * `id` and `time` are filled in when absent; seq and prevHash are assigned when the batch is written.
   */
  append(entry: LedgerEntry): string;
  /** Resolves when every record appended before the call is on disk (fsynced). */
  flush(): Promise<void>;
}

/** A sink that keeps records in memory, chained with a dummy hash: for tests of the callers. */
export class MemoryLedgerSink implements LedgerSink {
  readonly records: LedgerRecord[] = [];
  private n = 0;

  append(entry: LedgerEntry): string {
    const id = entry.id ?? `mem-${this.n}`;
    const record = { ...entry, id, time: entry.time ?? new Date().toISOString(), schemaVersion: LEDGER_SCHEMA_VERSION, seq: this.n++, prevHash: '0'.repeat(64) } as LedgerRecord;
    this.records.push(record);
    return id;
  }

  async flush(): Promise<void> {}
}

/** Drops everything: for callers with no workspace (the ledger is per workspace folder). */
export const nullLedgerSink: LedgerSink = {
  append: (entry) => entry.id ?? '',
  flush: async () => {},
};
