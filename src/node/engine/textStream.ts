/**
 * Streamed text, sent in batches: generated pieces are joined and sent at most every `intervalMs` (the first piece at
 * once, so the first token's latency is unchanged), and whatever is pending is sent by `flush()` before the request's
 * result. One notification per token wakes the client's process on every token; on a two-core machine that wake-up
 * takes a core from llama.cpp's threads in the middle of a decode, and the other thread waits at its barrier.
 */
export class TextStream {
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  private lastSent = -Infinity;

  constructor(
    private readonly send: (text: string) => void,
    private readonly intervalMs = 50,
  ) {}

  push(text: string): void {
    if (!text) return;
    this.pending += text;
    if (this.timer) return;
    const wait = this.lastSent + this.intervalMs - performance.now();
    if (wait <= 0) this.flush();
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Sends what is pending now (before the result, so the stream is complete when the result arrives). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending) return;
    const text = this.pending;
    this.pending = '';
    this.lastSent = performance.now();
    this.send(text);
  }
}
