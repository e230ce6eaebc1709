/**
 * What "Hearth: Download Model…" offers: every downloadable manifest model with its size, tier, minimum RAM
 * and whether it fits this machine, the recommended one first. Pure, so the order and the words are unit-tested.
 */
import { formatGB, planModel, recommend, type HardwareProfile } from '../hardware/recommend';
import type { ModelEntry, ModelManifest } from './modelManifest';

export interface DownloadChoice {
  entry: ModelEntry;
  label: string;
  description: string;
  detail: string;
  recommended: boolean;
  fits: boolean;
  downloaded: boolean;
}

const TIER_ORDER = { demo: 0, small: 1, medium: 2, large: 3 } as const;

/**
 * Downloadable models (GGUF over https; not the generated demo) in this order: the recommended completion model,
 * then those that fit (smallest tier first), then those that do not.
 */
export function downloadChoices(profile: HardwareProfile, manifest: ModelManifest, downloadedIds: ReadonlySet<string>): DownloadChoice[] {
  const recommendedId = recommend(profile, manifest).model?.id;
  const choices = manifest.models
    .filter((m) => m.format === 'gguf' && m.url.startsWith('https:') && m.tier !== 'demo')
    .map((entry): DownloadChoice => {
      const plan = planModel(profile, entry);
      const fits = plan.fit.fits;
      const recommended = entry.id === recommendedId;
      const downloaded = downloadedIds.has(entry.id);
      const size = entry.sizeBytes ? formatGB(entry.sizeBytes) : 'size unknown';
      const params = entry.parameters
        ? entry.parameters.active < entry.parameters.total
          ? `${billions(entry.parameters.total)} MoE (${billions(entry.parameters.active)} active)`
          : billions(entry.parameters.total)
        : '';
      const verdict = recommended ? 'recommended for this machine' : fits ? 'fits this machine' : 'will not fit this machine';
      return {
        entry,
        label: `${recommended ? '$(star-full) ' : fits ? '' : '$(warning) '}${entry.name}`,
        description: [size, entry.tier, `needs ${formatGB(entry.minRamBytes)} RAM`, verdict, downloaded ? 'downloaded' : ''].filter(Boolean).join(' · '),
        detail: [params, `for ${entry.purpose === 'both' ? 'completion and chat' : entry.purpose}`, fits ? `context ${plan.settings.contextSize}, KV cache ${plan.settings.kvCacheType}` : plan.fit.message]
          .filter(Boolean)
          .join(' · '),
        recommended,
        fits,
        downloaded,
      };
    });
  const rank = (c: DownloadChoice) => (c.recommended ? 0 : c.fits ? 1 : 2);
  return choices.sort((a, b) => rank(a) - rank(b) || TIER_ORDER[a.entry.tier] - TIER_ORDER[b.entry.tier] || (a.entry.sizeBytes ?? 0) - (b.entry.sizeBytes ?? 0));
}

/** A progress line: "512.0 MB of 1.6 GB · 12.3 MB/s · about 1 min 20 s left". */
export function downloadProgressText(receivedBytes: number, totalBytes: number | null, bytesPerSecond: number): string {
  const mb = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(1)} MB`);
  const parts = [totalBytes ? `${mb(receivedBytes)} of ${mb(totalBytes)}` : mb(receivedBytes), `${(bytesPerSecond / 1e6).toFixed(1)} MB/s`];
  if (totalBytes && bytesPerSecond > 0 && receivedBytes < totalBytes) parts.push(`about ${duration((totalBytes - receivedBytes) / bytesPerSecond)} left`);
  return parts.join(' · ');
}

function billions(n: number): string {
  return `${Number((n / 1e9).toFixed(1))}B`;
}

function duration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Whether `neededBytes` fit in `freeBytes` with a margin; a sentence with the numbers when not. */
export function diskSpaceProblem(freeBytes: number, neededBytes: number, dir: string): string | null {
  const margin = 64 * 1024 * 1024;
  if (freeBytes >= neededBytes + margin) return null;
  return `Not enough disk space in ${dir}: the download needs ${formatGB(neededBytes)} but only ${formatGB(freeBytes)} is free. Free some space or set HEARTH_MODELS_DIR to a bigger disk.`;
}
