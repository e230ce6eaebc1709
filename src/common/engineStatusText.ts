import type { ModelInfo, PromptCacheStatus, StatusResult } from './protocol/engineProtocol';

export interface StatusTooltipFacts {
  model: ModelInfo;
  pid: number | undefined;
  /** The engine's last status (for the windows sharing it); undefined until fetched. */
  status: StatusResult | undefined;
  tuned: boolean;
  threadsSetting: number;
}

/** Markdown for the ready tooltip (pure, so the wording is unit-tested). */
export function statusTooltipMarkdown({ model, pid, status, tuned, threadsSetting }: StatusTooltipFacts): string {
  const windows = status ? (status.clientNames ?? []).filter((n) => n.startsWith('VS Code window')).length : undefined;
  const others = status ? status.clients - (windows ?? 0) : 0;
  const sharing =
    status === undefined
      ? 'shared per user'
      : status.clients <= 1
        ? 'used by this window only'
        : `shared by ${status.clients} clients (${windows} window${windows === 1 ? '' : 's'}${others > 0 ? `, ${others} other` : ''})`;
  const how = threadsSetting > 0 ? '(threads from hearth.engine.threads)' : tuned ? '(tuned for this machine)' : '(not tuned: run "Hearth: Tune for This Machine")';
  return [
    `**Hearth: ready**`,
    '',
    `Model: ${model.name} · ${model.architecture} · ${(model.sizeBytes / 1e6).toFixed(0)} MB`,
    '',
    `Threads: ${model.threads} · batch ${model.batchSize ?? 'default'} · context ${model.contextSize} ${how}`,
    ...(status ? speedLines(status).flatMap((l) => ['', l]) : []),
    '',
    `Engine: pid ${pid ?? status?.pid ?? '?'} · ${sharing}${status ? ` · ${(status.rssBytes / 1e6).toFixed(0)} MB resident` : ''}`,
    ...(status?.promptCache ? ['', promptCacheSummary(status.promptCache)] : []),
  ].join('\n');
}

/**
 * The engine's speed state (status bar tooltip, `hearth status`): which llama.cpp build is loaded, the threads the
 * last request used against other programs' load, and lookup speculation.
 */
export function speedLines(status: Pick<StatusResult, 'engineBackend' | 'threads' | 'lookup'>): string[] {
  const lines: string[] = [];
  const b = status.engineBackend;
  if (b) lines.push(`Backend: ${b.kind === 'native' ? 'native build for this machine' : 'prebuilt'} (${b.flags})${b.note ? ` · ${b.note}` : ''}${b.waits ? ` · ${b.waits}` : ''}`);
  const t = status.threads;
  if (t) lines.push(`Threads now: ${t.last} of ${t.ceiling} · other programs busy ${t.othersBusy.toFixed(1)} core${t.othersBusy === 1 ? '' : 's'}`);
  const l = status.lookup;
  if (l) lines.push(`Lookup speculation: ${l.enabled ? `on${l.acceptance === null ? '' : ` · ${(l.acceptance * 100).toFixed(0)}% of drafts accepted`}` : 'off'}`);
  return lines;
}

/** One line on the live sequences and the prompt cache (status bar tooltip, `hearth status`). */
export function promptCacheSummary(c: PromptCacheStatus): string {
  const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
  const requests = c.liveHits + c.restores + c.fullPrefills;
  const rate = c.hitRate === null ? 'no completions yet' : `hit rate ${(c.hitRate * 100).toFixed(0)}% of ${requests} (${c.liveHits} live, ${c.restores} restored, ${c.fullPrefills} full prefills)`;
  return `Prompt cache: ${c.liveDocuments} of ${c.liveSequences} live sequences in use · ${c.entries} saved state${c.entries === 1 ? '' : 's'}, ${mb(c.bytes)} of ${mb(c.budgetBytes)} · ${rate}`;
}
