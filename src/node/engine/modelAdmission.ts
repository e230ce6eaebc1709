/**
 * Refuses a model that will not fit in memory before llama.cpp tries (and the machine starts swapping),
 * with the numbers.
 */
import { statSync } from 'node:fs';
import { checkFits } from '../../common/hardware/recommend';
import { detectHardwareProfile } from '../hardware/hardwareProfile';

/**
 * Throws when `path` (a GGUF file) at `contextSize` needs more memory than is available. `freedBytes` is what
 * unloading the current model gives back.
 */
export async function admitModel(path: string, contextSize: number, freedBytes: number): Promise<void> {
  if (process.env.HEARTH_SKIP_FIT_CHECK === '1') return;
  const profile = await detectHardwareProfile(undefined, { gpu: false });
  const withFreed = { ...profile, memory: { ...profile.memory, availableBytes: profile.memory.availableBytes + freedBytes } };
  const fit = checkFits(withFreed, statSync(path).size, contextSize, { name: path });
  if (!fit.fits) throw new Error(fit.message);
}
