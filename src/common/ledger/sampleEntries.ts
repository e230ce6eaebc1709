/**
 * Deterministic synthetic ledger entries: a plausible mix of lanes, outcomes and weeks. For benchmarks, tests,
 * the HTML report's demo and the dashboard's empty state; never written to a real workspace ledger.
 */
import type { LedgerEntry, Outcome } from './ledgerRecord';
import { seededRandom } from '../random';

/** Seeded, so the same seed gives the same ledger. */
const rng = seededRandom;

export interface SampleOptions {
  seed?: number;
  /** Time of the first entry; entries are spread `spacingMs` apart. */
  start?: Date;
  spacingMs?: number;
  workspace?: string;
}

/** `count` entries, oldest first. */
export function* sampleEntries(count: number, opts: SampleOptions = {}): Generator<LedgerEntry> {
  const rand = rng(opts.seed ?? 1);
  const start = (opts.start ?? new Date('2025-01-06T09:00:00Z')).getTime();
  const spacing = opts.spacingMs ?? 60_000;
  const workspace = opts.workspace ?? 'ws-0123456789abcdef';
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  for (let i = 0; i < count; i++) {
    const time = new Date(start + i * spacing).toISOString();
    const u = rand();
    if (u < 0.003) {
      yield { kind: 'incident', id: `sample-${opts.seed ?? 1}-${i}`, time, workspace, lane: 'chat', model: 'qwen2.5-coder-1.5b', incident: pick(['factual-error', 'tool-misuse'] as const), refersTo: `sample-${opts.seed ?? 1}-${Math.max(0, i - 1)}` };
      continue;
    }
    const lane = u < 0.8 ? 'completion' : u < 0.95 ? 'chat' : 'escalation';
    const outcomes: readonly Outcome[] = lane === 'completion' ? ['accepted', 'partial', 'rejected', 'ignored', 'ignored', 'ignored', 'cancelled'] : ['accepted', 'partial', 'rejected', 'ignored', 'error'];
    const outcome = pick(outcomes);
    const escal = lane === 'escalation';
    const totalMs = Math.round((escal ? 2000 : lane === 'chat' ? 1500 : 120) * (0.5 + rand() * 1.5));
    const suggested = escal || lane === 'chat' ? 400 + Math.floor(rand() * 1200) : 10 + Math.floor(rand() * 120);
    const chars = outcome === 'accepted' ? suggested : outcome === 'partial' ? Math.floor(suggested * rand()) : 0;
    yield {
      kind: 'task',
      id: `sample-${opts.seed ?? 1}-${i}`,
      time,
      workspace,
      lane,
      model: escal ? 'claude-sonnet-4' : 'qwen2.5-coder-1.5b',
      backend: escal ? 'anthropic' : 'llamacpp',
      quantization: escal ? undefined : 'Q4_K_M',
      machineProfileId: 'mp-laptop-2018',
      tokensIn: escal ? 1500 + Math.floor(rand() * 3000) : 300 + Math.floor(rand() * 1500),
      tokensOut: Math.max(1, Math.round(suggested / 4)),
      timeToFirstTokenMs: Math.round(totalMs * 0.3),
      totalMs,
      outcome,
      charsSuggested: suggested,
      charsAccepted: chars,
      linesAccepted: Math.ceil(chars / 40),
      destination: escal ? 'frontier' : 'local',
      provider: escal ? 'anthropic' : undefined,
      redactions: escal && rand() < 0.3 ? { secret: 1, email: Math.floor(rand() * 3) } : undefined,
      // Schema 2: an escalation's model time, apart from the time its dialogs waited (none here).
      ...(escal ? { modelMs: totalMs, waitMs: 0 } : {}),
    };
  }
}
