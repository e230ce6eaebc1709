/**
 * How many prompt tokens a completion's prefill evaluates per step. llama.cpp cannot stop a batch once it runs, so
 * a keystroke of another window that arrives during a prefill step waits for the whole step before its own token is
 * evaluated: ~1 s for a 128-token step of a 1.5B model on two cores, against ~50 ms for the keystroke itself. Big
 * steps are only safe while nobody else is typing.
 *  - Big steps (`bigStep`): no other window has a completion in flight or had one end within `recentMs`, and the
 *    request comes from the focused window. A window typing alone prefills at full speed (a jump, a new file, a
 *    switch to another file: one window is one typist). A window is a client connection (else a document).
 *  - Small steps (`smallStep`) otherwise: another window's next keystroke waits at most one small step. The
 *    prefilling window pays more batches (prefill throughput at a few tokens per batch is lower). A window without
 *    focus always takes small steps: the focused window's next keystroke may come at any time, and an idle pause
 *    there said nothing about when (session 6: focused keystrokes waited ~1 s behind unfocused 128-token steps).
 * Requests of one window come one at a time (the newest keystroke wins), so they do not slow each other down.
 */
export interface PrefillPacerOptions {
  bigStep: number;
  smallStep: number;
  /** How long after another window's last completion ended it still counts as typing. */
  recentMs: number;
  now?: () => number;
}

export class PrefillPacer {
  private readonly inFlight = new Map<string, number>();
  private readonly lastEnded = new Map<string, number>();
  private readonly now: () => number;
  private anonymous = 0;

  constructor(private readonly options: PrefillPacerOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * Marks a completion of `window` (a client connection, or a document) in flight until the returned function is
   * called. A request without either counts as a window of its own.
   */
  begin(window: string | undefined): { key: string; end: () => void } {
    const key = this.keyFor(window);
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const n = (this.inFlight.get(key) ?? 1) - 1;
      if (n > 0) this.inFlight.set(key, n);
      else this.inFlight.delete(key);
      this.lastEnded.set(key, this.now());
    };
    return { key, end };
  }

  /** A request's key: its window, or a key of its own when it has none. */
  keyFor(window: string | undefined): string {
    return window ?? `\0anonymous-${this.anonymous++}`;
  }

  /** Whether a completion of another window is in flight or ended within `recentMs`. */
  othersTyping(key: string): boolean {
    for (const other of this.inFlight.keys()) if (other !== key) return true;
    const since = this.now() - this.options.recentMs;
    let typing = false;
    for (const [other, at] of this.lastEnded) {
      if (at < since) this.lastEnded.delete(other);
      else if (other !== key) typing = true;
    }
    return typing;
  }

  /** Prompt tokens for the next prefill step of the request `key` (see the file comment). */
  step(key: string, focused: boolean): number {
    return !focused || this.othersTyping(key) ? this.options.smallStep : this.options.bigStep;
  }
}

/**
 * Small prefill steps of all windows, one at a time, after the keystrokes. Each window's step being small is not
 * enough: three windows prefilling at once (after a jump each) put three steps in every batch, and a keystroke's
 * token that joins a batch with a step waits for the step's tokens too. So while windows type, prefill steps run
 * one at a time across sequences (they take turns, first come first served), and a step does not start while a
 * request waits for its first token: that token gets a batch of its own (a decode), then the prefills go on. A step
 * waits for such requests at most `maxWaitMs`, so a stream of keystrokes cannot starve a prefill.
 */
export class StepGate {
  private stepping = false;
  private readonly turns: Array<() => void> = [];
  private awaiting = 0;
  private readonly firstTokenWaiters = new Set<() => void>();

  constructor(private readonly maxWaitMs: number) {}

  /** A request is about to evaluate its last prompt tokens and wants its first token: call the result when it has it. */
  awaitFirstToken(): () => void {
    this.awaiting++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.awaiting === 0) for (const wake of [...this.firstTokenWaiters]) wake();
    };
  }

  /**
   * Runs `step` when no other gated step runs and no request waits for its first token (that wait at most
   * `maxWaitMs`); false without running it when `signal` aborts first.
   */
  async run(step: () => Promise<void>, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    if (this.stepping) {
      const turn = await new Promise<boolean>((resolve) => {
        // Called by the step before, which hands its turn over (no longer queued), or by the abort (still queued).
        const done = () => {
          signal.removeEventListener('abort', done);
          const queued = this.turns.indexOf(done);
          if (queued >= 0) this.turns.splice(queued, 1);
          resolve(queued < 0);
        };
        this.turns.push(done);
        signal.addEventListener('abort', done, { once: true });
      });
      if (!turn) return false;
    } else {
      this.stepping = true;
    }
    try {
      await this.afterFirstTokens(signal);
      if (signal.aborted) return false;
      await step();
      return true;
    } finally {
      const next = this.turns.shift();
      if (next) next();
      else this.stepping = false;
    }
  }

  private async afterFirstTokens(signal: AbortSignal): Promise<void> {
    if (this.awaiting === 0 || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.firstTokenWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.maxWaitMs);
      signal.addEventListener('abort', done, { once: true });
      this.firstTokenWaiters.add(done);
    });
  }
}
