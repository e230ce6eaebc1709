/**
 * The engine's scheduler. Requests carry a priority: inline completion > chat > background.
 * - Each priority has its own lane with at most one job running; lanes run side by side on separate context
 *   sequences, and llama.cpp's batching evaluates the higher priority first (see `evaluationPriority`).
 * - A newer completion for the same document cancels the older one, running or queued: the newest
 *   keystroke wins.
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

export class Scheduler {
  private readonly queues: Record<Priority, Job[]> = { completion: [], chat: [], background: [] };
  private readonly running: Record<Priority, Job | undefined> = { completion: undefined, chat: undefined, background: undefined };

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
          this.running[options.priority] = job;
          fn(controller.signal)
            .then(resolve, reject)
            .finally(() => {
              this.running[options.priority] = undefined;
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
      this.running[lane]?.controller.abort(new Error(reason));
    }
  }

  /** Jobs waiting or running, by lane. */
  load(): Record<Priority, number> {
    const n = (p: Priority) => this.queues[p].length + (this.running[p] ? 1 : 0);
    return { completion: n('completion'), chat: n('chat'), background: n('background') };
  }

  private supersede(key: string): void {
    const running = this.running.completion;
    if (running?.options.key === key) running.controller.abort(new Error('superseded by a newer completion'));
    for (const job of this.queues.completion) if (job.options.key === key) job.controller.abort(new Error('superseded by a newer completion'));
  }

  private pump(): void {
    for (const lane of ['completion', 'chat', 'background'] as const) {
      if (this.running[lane]) continue;
      if (lane === 'background' && (this.load().completion > 0 || this.load().chat > 0)) continue;
      const job = this.queues[lane].shift();
      // A job cancelled while queued still starts, sees its aborted signal at once and returns.
      job?.start();
    }
  }
}
