/**
 * Completion replay tasks for bench:engine-speed's lookup figure (issue #17): rest-of-line completions on this
 * repository's code, as an editor asks them (cursor inside a line, the prefix window before it, the text after the
 * line as suffix, stop at the end of the line). The text removed between prefix and suffix is what the model must
 * generate: session 5's replay cut at a line start and kept everything after it as suffix, so the true middle was
 * empty, the shipped model answered one token and end-of-middle, and the "replay" timed prefill alone.
 *
 * `copyable` marks a task whose expected rest of line occurs verbatim in its prefix window: there, a model that
 * repeats its input can take most of its tokens from prompt-lookup drafts.
 */

export interface ReplayTask {
  file: string;
  prefix: string;
  suffix: string;
  /** The text the model should generate (the rest of the line). */
  expected: string;
  copyable: boolean;
  /** `spread`: evenly spaced over the file's code lines (the headline figure); `copy`: drawn from the copyable ones. */
  group: 'spread' | 'copy';
}

export const REPLAY_PREFIX_CHARS = 1000;
export const REPLAY_SUFFIX_CHARS = 250;

function isCodeLine(t: string): boolean {
  return t.length >= 12 && !t.startsWith('//') && !t.startsWith('/*') && !t.startsWith('*');
}

/** The last `chars` characters before `cursor`, starting at a line start. */
function prefixWindow(text: string, cursor: number, chars: number): string {
  let start = Math.max(0, cursor - chars);
  if (start > 0) {
    const nl = text.indexOf('\n', start);
    start = nl >= 0 && nl < cursor ? nl + 1 : start;
  }
  return text.slice(start, cursor);
}

/**
 * `perFile` tasks per file, spread evenly over its code lines (deterministic), and as many again from the lines
 * whose rest occurs in their prefix window (`copyable`), where a file has them. The cursor sits after the line's
 * first identifier-sized piece (a third of its body, at least 4 characters), so the rest is several tokens long.
 */
export function replayTasks(files: Array<{ path: string; text: string }>, perFile: number): ReplayTask[] {
  const tasks: ReplayTask[] = [];
  for (const { path, text } of files) {
    const all: ReplayTask[] = [];
    let start = 0;
    for (const line of text.split('\n')) {
      const end = start + line.length;
      const t = line.trim();
      if (isCodeLine(t) && start >= REPLAY_PREFIX_CHARS / 2) {
        const indent = line.length - line.trimStart().length;
        const body = line.trimEnd().length - indent;
        const cursor = start + indent + Math.max(4, Math.floor(body / 3));
        const expected = text.slice(cursor, start + line.trimEnd().length);
        if (expected.trim().length >= 4) {
          const prefix = prefixWindow(text, cursor, REPLAY_PREFIX_CHARS);
          all.push({ file: path, prefix, suffix: text.slice(end, end + REPLAY_SUFFIX_CHARS), expected, copyable: prefix.includes(expected), group: 'spread' });
        }
      }
      start = end + 1;
    }
    const spread = <T>(xs: T[], n: number): T[] => (xs.length <= n ? xs : Array.from({ length: n }, (_, i) => xs[Math.floor(((i + 0.5) * xs.length) / n)]!));
    tasks.push(...spread(all, perFile), ...spread(all.filter((x) => x.copyable), perFile).map((x) => ({ ...x, group: 'copy' as const })));
  }
  return tasks;
}
