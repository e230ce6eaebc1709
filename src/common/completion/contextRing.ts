/**
 * The repository context ring (llama.vscode keeps 16 chunks): pieces of recently opened, edited, saved and copied
 * code, and definitions of identifiers near the cursor, offered to the model before the FIM prompt. A chunk much
 * like one already held (mostly the same lines) replaces it instead of taking a second place; the oldest chunk
 * leaves when the ring is full. Pure, so it is tested without an editor.
 */
import type { ContextChunk } from './fimTemplates';

export type ChunkKind = 'opened' | 'edited' | 'saved' | 'copied' | 'definition';

export interface RingChunk extends ContextChunk {
  kind: ChunkKind;
}

/** Lines a chunk holds at most, and lines shorter than this (after trimming) do not count for likeness. */
export const CHUNK_LINES = 48;
const MIN_LINE = 4;
/** Share of shared lines above which two chunks are near-duplicates. */
const NEAR_DUPLICATE = 0.7;

function lineSet(text: string): Set<string> {
  return new Set(text.split('\n').map((l) => l.trim()).filter((l) => l.length >= MIN_LINE));
}

/** Shared lines over the smaller chunk's lines (1: one holds the other). */
export function likeness(a: string, b: string): number {
  const sa = lineSet(a);
  const sb = lineSet(b);
  if (!sa.size || !sb.size) return 0;
  let shared = 0;
  for (const l of sa) if (sb.has(l)) shared++;
  return shared / Math.min(sa.size, sb.size);
}

/** The chunk of `text` around line `line` (0-based): up to CHUNK_LINES lines, centred where possible. */
export function chunkAround(text: string, line = 0, lines = CHUNK_LINES): string {
  const all = text.split('\n');
  const start = Math.max(0, Math.min(line - Math.floor(lines / 2), all.length - lines));
  return all.slice(start, start + lines).join('\n');
}

export class ContextRing {
  private chunks: RingChunk[] = [];
  /** Bumped on every change, so a caller can tell whether what it placed in a prompt is stale. */
  version = 0;

  constructor(private capacity = 16) {}

  setCapacity(n: number): void {
    this.capacity = Math.max(0, n);
    if (this.chunks.length > this.capacity) {
      this.chunks = this.chunks.slice(this.chunks.length - this.capacity);
      this.version++;
    }
  }

  /** Adds a chunk (newest last). Returns false when it was empty or already held as it is. */
  add(chunk: RingChunk): boolean {
    if (this.capacity === 0 || chunk.text.trim().length < 16) return false;
    const same = this.chunks.findIndex((c) => c.text === chunk.text);
    if (same >= 0) return false;
    const near = this.chunks.findIndex((c) => likeness(c.text, chunk.text) >= NEAR_DUPLICATE);
    if (near >= 0) this.chunks.splice(near, 1);
    this.chunks.push(chunk);
    if (this.chunks.length > this.capacity) this.chunks.shift();
    this.version++;
    return true;
  }

  get size(): number {
    return this.chunks.length;
  }

  /**
   * Chunks for a prompt of the file `currentPath` around `cursorText`: not chunks of that file the prompt already
   * shows, within `maxChars`, newest kept first when cut, oldest first in the result (a stable order, so the prompt's
   * start stays the same while the ring does).
   */
  select(currentPath: string, cursorText: string, maxChars: number): RingChunk[] {
    const out: RingChunk[] = [];
    let used = 0;
    for (let i = this.chunks.length - 1; i >= 0; i--) {
      const c = this.chunks[i]!;
      if (c.path === currentPath && likeness(c.text, cursorText) >= NEAR_DUPLICATE) continue;
      if (used + c.text.length > maxChars) continue;
      used += c.text.length;
      out.push(c);
    }
    return out.reverse();
  }
}

/**
 * Whether a document's request takes a new repository context from the ring ('new'), or keeps the one its prompt
 * last started with ('keep'), so the engine reuses the document's evaluated state. A document seen before gets a
 * new one only when the ring changed since and the re-read it causes is cheap on this machine: where the engine
 * reads the window again anyway (its anchored start moved), only the context's tokens are extra
 * (`affordable.context`); otherwise, after a pause, the whole prompt (`affordable.whole`).
 */
export function contextRefresh(s: { known: boolean; ringChanged: boolean; windowMoved: boolean; idle: boolean; affordable: { whole: boolean; context: boolean } }): 'new' | 'keep' {
  if (!s.known) return 'new';
  if (!s.ringChanged) return 'keep';
  return (s.windowMoved && s.affordable.context) || (s.idle && s.affordable.whole) ? 'new' : 'keep';
}
