/**
 * One generation's stop signal: the caller's cancel, or its time limit, whichever comes first. `timedOut` tells
 * the two apart (a time limit is a normal end, `timeLimit`; a cancel is `cancelled`).
 */
export class GenerationLimit {
  private readonly local = new AbortController();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onAbort = () => this.local.abort(this.caller.reason);
  timedOut = false;

  constructor(private readonly caller: AbortSignal, timeLimitMs: number | undefined) {
    if (caller.aborted) this.local.abort(caller.reason);
    else caller.addEventListener('abort', this.onAbort, { once: true });
    this.timer = timeLimitMs
      ? setTimeout(() => {
          this.timedOut = true;
          this.local.abort(new Error('time limit'));
        }, timeLimitMs)
      : undefined;
  }

  get signal(): AbortSignal {
    return this.local.signal;
  }

  /** Stops the timer and lets go of the caller's signal (call once the generation ended). */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.caller.removeEventListener('abort', this.onAbort);
  }
}
