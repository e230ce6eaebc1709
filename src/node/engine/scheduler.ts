/**
 * The engine's scheduler. Requests carry a priority: inline completion > chat > background.
 * - Each priority has its own lane; lanes run side by side on separate context sequences, and llama.cpp's
 *   batching evaluates the higher priority first (see `evaluationPriority`). The completion lane runs up to one
 *   job per live completion sequence at once (different documents, e.g. windows side by side), chat and
 *   background one each.
 * - A newer completion for the same document cancels the older one, running or queued: the newest
 *   keystroke wins. Jobs of one document never run at once (they share its sequence): the newer waits for the
 *   cancelled one, which stops at its next prefill chunk or token.
 * - Background work starts only while no completion or chat is running or waiting.
 */
import type { Priority } from '../../common/protocol/engineProtocol';

export interface JobOptions {
  priority: Priority;
  /** Jobs with the same key in the completion lane supersede each other. */
  key?: string;
  /** Aborting it cancels the job, queued or running. */
  signal?: AbortSignal;
}

interface Job {
  options: JobOptions;
  controller: AbortController;
  start(): void;
}

/** llama.cpp batch priority per lane (higher is evaluated first). */
export const evaluationPriority: Record<Priority, 1 | 2 | 3 | 4 | 5> = { completion: 5, chat: 3, background: 1 };

/** A completion from a window without focus comes after the focused window's, still before chat. */
export function evaluationPriorityOf(priority: Priority, focused: boolean | undefined): 1 | 2 | 3 | 4 | 5 {
  return priority === 'completion' && focused === false ? 4 : evaluationPriority[priority];
}

export class Scheduler {
  private readonly queues: Record<Priority, Job[]> = { completion: [], chat: [], background: [] };
  private readonly running: Record<Priority, Job[]> = { completion: [], chat: [], background: [] };
  private readonly capacity: Record<Priority, number> = { completion: 1, chat: 1, background: 1 };

  /** How many jobs of a lane may run at once (the completion lane: the backend's live completion sequences). */
  setCapacity(lane: Priority, n: number): void {
    this.capacity[lane] = Math.max(1, Math.floor(n));
    this.pump();
  }

  /** Runs `fn` when its lane is free; `fn`'s signal aborts when the job is cancelled or superseded. */
  run<T>(options: JobOptions, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (options.priority === 'completion' && options.key !== undefined) this.supersede(options.key);
    const controller = new AbortController();
    const external = options.signal;
    if (external?.aborted) controller.abort(external.reason);
    else external?.addEventListener('abort', () => controller.abort(external.reason), { once: true });
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        options,
        controller,
        start: () => {
          this.running[options.priority].push(job);
          fn(controller.signal)
            .then(resolve, reject)
            .finally(() => {
              const lane = this.running[options.priority];
              lane.splice(lane.indexOf(job), 1);
              this.pump();
            });
        },
      };
      this.queues[options.priority].push(job);
      this.pump();
    });
  }

  /** Cancels every job, running or queued. */
  cancelAll(reason = 'cancelled'): void {
    for (const lane of Object.keys(this.queues) as Priority[]) {
      for (const job of this.queues[lane]) job.controller.abort(new Error(reason));
      for (const job of this.running[lane]) job.controller.abort(new Error(reason));
    }
  }

  /** Jobs waiting or running, by lane. */
  load(): Record<Priority, number> {
    const n = (p: Priority) => this.queues[p].length + this.running[p].length;
    return { completion: n('completion'), chat: n('chat'), background: n('background') };
  }

  private supersede(key: string): void {
    for (const job of this.running.completion) if (job.options.key === key) job.controller.abort(new Error('superseded by a newer completion'));
    for (const job of this.queues.completion) if (job.options.key === key) job.controller.abort(new Error('superseded by a newer completion'));
  }

  private pump(): void {
    for (const lane of ['completion', 'chat', 'background'] as const) {
      if (lane === 'background' && (this.load().completion > 0 || this.load().chat > 0)) continue;
      const queue = this.queues[lane];
      for (let i = 0; i < queue.length && this.running[lane].length < this.capacity[lane]; ) {
        const job = queue[i]!;
        const key = job.options.key;
        // One job per document at a time: a newer one waits for the superseded one to stop.
        if (key !== undefined && this.running[lane].some((r) => r.options.key === key)) {
          i++;
          continue;
        }
        queue.splice(i, 1);
        // A job cancelled while queued still starts, sees its aborted signal at once and returns.
        job.start();
      }
    }
  }
}
