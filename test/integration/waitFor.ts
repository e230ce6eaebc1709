/**
 * Polls `probe` every 100 ms until it returns a value, failing after `timeoutMs` with what was awaited.
 * `onTick` runs every 2 s (e.g. to re-trigger an inline suggestion the editor dropped).
 */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined | Promise<T | undefined>, onTick?: () => unknown): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let tick = 0;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    if (onTick && ++tick % 20 === 0) await onTick();
    await new Promise((r) => setTimeout(r, 100));
  }
}
