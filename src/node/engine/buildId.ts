import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const cache = new Map<string, string>();

/**
 * Identifies an engine build by the hash of its bundle, so a client that meets an engine started from another
 * build (Hearth was updated or rebuilt while it ran) replaces it instead of talking to stale code.
 */
export function buildIdOf(bundlePath: string): string {
  let id = cache.get(bundlePath);
  if (!id) {
    try {
      id = createHash('sha256').update(readFileSync(bundlePath)).digest('hex').slice(0, 16);
    } catch {
      id = 'unknown';
    }
    cache.set(bundlePath, id);
  }
  return id;
}
