/**
 * Beam search for short completions: keeps the `width` likeliest partial continuations at every step and returns
 * the finished one with the highest total log-probability. Greedy decoding commits to its first token; on a
 * rest-of-line completion that is often a long, wrong line where a short, likelier one existed (`turn;` rather
 * than `turn result;`). The search only asks its model for next-token log-probabilities, so it runs over any
 * backend and is tested on a toy model (test/unit/beamSearch.test.ts); `LlamaCppBackend` runs it on llama.cpp.
 */

export interface BeamModel {
  /**
   * The `k` likeliest next tokens after the prompt followed by `tokens`, as [token, log-probability], best first;
   * only tokens in `allowed` when it is given.
   */
  next(tokens: readonly number[], k: number, allowed?: ReadonlySet<number>): Promise<Array<[number, number]>>;
  /** Whether the token ends generation (end of text, end of the middle). */
  isEnd(token: number): boolean;
  /** The text of a token sequence. */
  text(tokens: readonly number[]): string;
}

export interface BeamOptions {
  width: number;
  maxTokens: number;
  /** A candidate ends where its text contains one of these; the stop string and what follows are dropped. */
  stops: readonly string[];
  /** Text the candidates must begin with, not returned (token healing: the prefix's taken-back end). */
  heal?: string;
  /** The tokens the first one must be among (token healing). */
  firstAllowed?: ReadonlySet<number>;
  /**
   * Finished candidates must show some text: those that end (or stop) right after the healed part are dropped and
   * the search goes on. Healing supposes the cursor is inside a token's text; a middle that is exactly the taken-back
   * text says the cursor was at its end instead, which a search of the unhealed prompt scores (see `bestOf`).
   */
  nonEmpty?: boolean;
  signal?: AbortSignal;
}

export type BeamStop = 'eos' | 'stop' | 'maxTokens' | 'cancelled';

export interface BeamResult {
  text: string;
  tokens: number[];
  logProb: number;
  stopReason: BeamStop;
  /** The other finished candidates with distinct texts, likeliest first (what an editor offers to cycle through). */
  alternatives: Array<{ text: string; tokens: number[]; logProb: number }>;
}

interface Beam {
  tokens: number[];
  logProb: number;
}

interface Finished extends Beam {
  text: string;
  stopReason: BeamStop;
}

/** The candidate's text after the healed part, cut at the first stop string (`stopped`: one was found). */
function visible(model: BeamModel, tokens: readonly number[], heal: string, stops: readonly string[]): { text: string; stopped: boolean } {
  let text = model.text(tokens);
  text = text.startsWith(heal) ? text.slice(heal.length) : text;
  let cut = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (cut < 0 || i < cut)) cut = i;
  }
  return cut >= 0 ? { text: text.slice(0, cut), stopped: true } : { text, stopped: false };
}

function compareTokens(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export async function beamSearch(model: BeamModel, opts: BeamOptions): Promise<BeamResult> {
  const width = Math.max(1, Math.floor(opts.width));
  const heal = opts.heal ?? '';
  let live: Beam[] = [{ tokens: [], logProb: 0 }];
  const finished: Finished[] = [];
  let cancelled = false;
  for (let step = 0; step < opts.maxTokens && live.length; step++) {
    const candidates: Beam[] = [];
    // Beams in token order: neighbours share their longest prefixes, so a backend that keeps one evaluated
    // sequence re-evaluates the least between them.
    for (const beam of [...live].sort((a, b) => compareTokens(a.tokens, b.tokens))) {
      if (opts.signal?.aborted) break; // a large model's expansion takes a decode step: do not start another
      const next = await model.next(beam.tokens, width, step === 0 ? opts.firstAllowed : undefined);
      for (const [token, lp] of next) {
        if (Number.isFinite(lp)) candidates.push({ tokens: [...beam.tokens, token], logProb: beam.logProb + lp });
      }
    }
    if (opts.signal?.aborted) {
      cancelled = true;
      break;
    }
    candidates.sort((a, b) => b.logProb - a.logProb);
    live = [];
    for (const c of candidates) {
      const last = c.tokens[c.tokens.length - 1]!;
      if (model.isEnd(last)) {
        const tokens = c.tokens.slice(0, -1);
        const text = visible(model, tokens, heal, []).text;
        if (text || !opts.nonEmpty) finished.push({ tokens, logProb: c.logProb, text, stopReason: 'eos' });
        continue;
      }
      const v = visible(model, c.tokens, heal, opts.stops);
      if (v.stopped) {
        if (v.text || !opts.nonEmpty) finished.push({ ...c, text: v.text, stopReason: 'stop' });
        continue;
      }
      live.push(c);
      if (live.length >= width) break;
    }
    // Log-probabilities only fall as a beam grows: once a finished candidate beats every live beam, it is the answer.
    const best = finished.reduce((m, f) => Math.max(m, f.logProb), -Infinity);
    if (live.length && best >= live[0]!.logProb) break;
  }
  // Finished candidates first; a beam cut by maxTokens or cancellation only when nothing finished.
  const pool: Finished[] = finished.length
    ? finished
    : live.filter((b) => b.tokens.length).map((b) => ({ ...b, text: visible(model, b.tokens, heal, opts.stops).text, stopReason: cancelled ? 'cancelled' : 'maxTokens' }));
  // Nothing found (cancelled before the first step, or every candidate dropped): no answer, and no probability
  // (so `bestOf` prefers any other search's).
  if (!pool.length) return { text: '', tokens: [], logProb: -Infinity, stopReason: cancelled ? 'cancelled' : 'eos', alternatives: [] };
  const ranked = [...pool].sort((a, b) => b.logProb - a.logProb);
  const best = ranked[0]!;
  const seen = new Set([best.text]);
  const alternatives: BeamResult['alternatives'] = [];
  for (const f of ranked.slice(1)) {
    if (seen.has(f.text) || !f.text.trim()) continue;
    seen.add(f.text);
    alternatives.push({ text: f.text, tokens: f.tokens, logProb: f.logProb });
  }
  return { text: best.text, tokens: best.tokens, logProb: best.logProb, stopReason: best.stopReason, alternatives };
}

/**
 * The likeliest of several searches' answers (each the probability of what follows the typed text under its own
 * prompt), with the others' candidates merged into the alternatives (distinct texts, likeliest first).
 */
export function bestOf(results: readonly BeamResult[]): BeamResult {
  if (!results.length) return { text: '', tokens: [], logProb: -Infinity, stopReason: 'eos', alternatives: [] };
  const best = results.reduce((a, b) => (b.logProb > a.logProb ? b : a));
  const seen = new Set([best.text]);
  const alternatives: BeamResult['alternatives'] = [];
  const pool = results.filter((r) => Number.isFinite(r.logProb)).flatMap((r) => [...(r === best ? [] : [{ text: r.text, tokens: r.tokens, logProb: r.logProb }]), ...r.alternatives]);
  for (const a of pool.sort((x, y) => y.logProb - x.logProb)) {
    if (seen.has(a.text) || !a.text.trim()) continue;
    seen.add(a.text);
    alternatives.push(a);
  }
  return { ...best, alternatives };
}

/** The `k` largest entries of a token → probability map, as [token, log-probability], best first. */
export function topLogProbs(probabilities: ReadonlyMap<number, number>, k: number, allowed?: ReadonlySet<number>): Array<[number, number]> {
  const top: Array<[number, number]> = [];
  for (const [token, p] of probabilities) {
    if (allowed && !allowed.has(token)) continue;
    if (top.length === k && p <= top[k - 1]![1]) continue;
    let i = Math.min(top.length, k - 1);
    if (top.length < k) top.push([token, p]);
    else top[i] = [token, p];
    while (i > 0 && top[i - 1]![1] < top[i]![1]) {
      [top[i - 1], top[i]] = [top[i]!, top[i - 1]!];
      i--;
    }
  }
  if (allowed) {
    // Renormalised over the allowed tokens, as the +100 logit bias of greedy healing does.
    let sum = 0;
    for (const [token, p] of probabilities) if (allowed.has(token)) sum += p;
    return top.map(([t, p]) => [t, Math.log(p / (sum || 1))]);
  }
  return top.map(([t, p]) => [t, Math.log(p)]);
}

/**
 * Scoring a given middle (a copy candidate, see src/common/completion/copyCandidates.ts) the way the beams are
 * ranked: the model's log-probability of its tokens after the prompt, the first renormalised over `firstAllowed`
 * as the search's first step is, plus that of the likeliest token that ends it there (the end of the middle, or a
 * token that begins with a stop string, as a beam ends). One evaluation of the candidate's tokens gives them all.
 */
export interface CandidateModel {
  /** The candidate's tokens (the healed text and the candidate's), or undefined when they do not spell it. */
  tokenize(text: string): number[] | undefined;
  /** Next-token probabilities after the prompt followed by each prefix of `tokens`: tokens.length + 1 maps. */
  distributions(tokens: readonly number[]): Promise<Array<ReadonlyMap<number, number>>>;
  /** Tokens that end a candidate: the end of the middle and every token that begins with a stop string. */
  endTokens(stops: readonly string[]): ReadonlySet<number>;
}

export interface Scored {
  text: string;
  tokens: number[];
  logProb: number;
}

export async function scoreCandidates(model: CandidateModel, texts: readonly string[], opts: { heal?: string; firstAllowed?: ReadonlySet<number>; stops: readonly string[]; signal?: AbortSignal }): Promise<Scored[]> {
  const heal = opts.heal ?? '';
  const ends = model.endTokens(opts.stops);
  const out: Scored[] = [];
  for (const text of texts) {
    if (opts.signal?.aborted) break;
    const tokens = model.tokenize(heal + text);
    if (!tokens?.length) continue;
    if (opts.firstAllowed && !opts.firstAllowed.has(tokens[0]!)) continue;
    const dists = await model.distributions(tokens);
    let logProb = 0;
    for (let i = 0; i < tokens.length && Number.isFinite(logProb); i++) {
      const d = dists[i]!;
      let p = d.get(tokens[i]!) ?? 0;
      if (i === 0 && opts.firstAllowed) {
        let sum = 0;
        for (const t of opts.firstAllowed) sum += d.get(t) ?? 0;
        p = p / (sum || 1);
      }
      logProb += Math.log(p);
    }
    let end = 0;
    for (const [t, p] of dists[tokens.length]!) if (p > end && ends.has(t)) end = p;
    logProb += Math.log(end);
    if (Number.isFinite(logProb)) out.push({ text, tokens, logProb });
  }
  return out;
}

/**
 * The beams' answer or a scored candidate, whichever scores higher (`bonus`, in nats, added to each candidate's
 * log-probability: a prior for copies, or a function of the candidate), the rest as alternatives (distinct texts,
 * best first). The prior only chooses: the answer and alternatives keep the model's own log-probabilities, so the
 * confidence the editor's gate reads (their mean per token) stays the model's.
 */
export function withCandidates(result: BeamResult, scored: readonly Scored[], bonus: number | ((s: Scored) => number) = 0): BeamResult {
  if (!scored.length) return result;
  const prior = typeof bonus === 'number' ? () => bonus : bonus;
  const entries = [
    { text: result.text, tokens: result.tokens, logProb: result.logProb, score: result.logProb, stopReason: result.stopReason },
    ...result.alternatives.map((a) => ({ ...a, score: a.logProb, stopReason: 'stop' as BeamStop })),
    ...scored.map((c) => ({ ...c, score: c.logProb + prior(c), stopReason: 'stop' as BeamStop })),
  ];
  // Stable: on a tie the beams' answer stays first.
  const ranked = entries.filter((e) => Number.isFinite(e.score)).sort((x, y) => y.score - x.score);
  const best = ranked[0] ?? entries[0]!;
  const seen = new Set([best.text]);
  const alternatives: BeamResult['alternatives'] = [];
  for (const e of ranked) {
    if (seen.has(e.text) || !e.text.trim()) continue;
    seen.add(e.text);
    alternatives.push({ text: e.text, tokens: e.tokens, logProb: e.logProb });
  }
  return { text: best.text, tokens: best.tokens, logProb: best.logProb, stopReason: best.stopReason, alternatives };
}
